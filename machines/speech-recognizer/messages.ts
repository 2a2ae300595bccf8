// PROTOCOL.md §5: SpeechRecognizer 2.0 — directives, events and context.
import * as t from 'io-ts';
import { defineInterface } from '../envelope/define';
import { EmptyPayload, NonNegativeLong, oneOf, withRule } from '../envelope/primitives';

/** §5.3 profile: who ends capture. */
export const Profile = oneOf(['CLOSE_TALK', 'NEAR_FIELD', 'FAR_FIELD']);
export type Profile = t.TypeOf<typeof Profile>;

/** §5.3 format; §1.4 / §16 #14: PCM is the one we produce, OPUS is accepted. */
export const AudioFormat = oneOf(['AUDIO_L16_RATE_16000_CHANNELS_1', 'OPUS']);

/** §5.3 wakeWordIndices: where the wake word sits in the uploaded audio. */
export const WakeWordIndices = withRule(
  t.type({ startIndexInSamples: NonNegativeLong, endIndexInSamples: NonNegativeLong }, 'WakeWordIndices'),
  (w) =>
    w.endIndexInSamples < w.startIndexInSamples
      ? { path: ['endIndexInSamples'], message: 'endIndexInSamples is before startIndexInSamples' }
      : undefined,
);

/**
 * §5.3 Recognize.initiator. `type` is PRESS_AND_HOLD, TAP, WAKEWORD, or the opaque value echoed
 * from an ExpectSpeech, so any string is accepted; WAKEWORD needs wakeWordIndices unless it is an
 * echoed initiator (one that carries the ExpectSpeech token).
 */
export const RecognizeInitiator = withRule(
  t.type(
    {
      type: t.string,
      payload: t.partial({ wakeWordIndices: WakeWordIndices, token: t.string }),
    },
    'Initiator',
  ),
  (i) =>
    i.type === 'WAKEWORD' && i.payload.wakeWordIndices === undefined && i.payload.token === undefined
      ? { path: ['payload', 'wakeWordIndices'], message: 'required for a WAKEWORD initiator that is not echoed from ExpectSpeech' }
      : undefined,
);

export const Recognize = t.intersection(
  [t.type({ profile: Profile, format: AudioFormat }), t.partial({ initiator: RecognizeInitiator })],
  'RecognizePayload',
);
export type Recognize = t.TypeOf<typeof Recognize>;

/** §5.6 ExpectSpeech.initiator: opaque, copied verbatim into the next Recognize. */
export const ExpectSpeechInitiator = t.partial({ type: t.string, payload: t.partial({ token: t.string }) }, 'ExpectSpeechInitiator');

export const ExpectSpeech = t.intersection(
  [t.type({ timeoutInMilliseconds: NonNegativeLong }), t.partial({ initiator: ExpectSpeechInitiator })],
  'ExpectSpeechPayload',
);
export type ExpectSpeech = t.TypeOf<typeof ExpectSpeech>;

/** §5.2 RecognizerState: the wake word in use; ALEXA is the accepted value. */
export const RecognizerState = t.type({ wakeword: t.literal('ALEXA') }, 'RecognizerStatePayload');
export type RecognizerState = t.TypeOf<typeof RecognizerState>;

export const SpeechRecognizer = defineInterface({
  namespace: 'SpeechRecognizer',
  version: '2.0',
  directives: { StopCapture: EmptyPayload, ExpectSpeech },
  events: { Recognize, ExpectSpeechTimedOut: EmptyPayload },
  context: { RecognizerState },
  eventsWithContext: ['Recognize'],
  eventsWithDialogRequestId: ['Recognize'],
});

// PROTOCOL.md §6: SpeechSynthesizer 1.0.
import * as t from 'io-ts';
import { defineInterface } from '../envelope/define';
import { CidUrl, NonNegativeLong, oneOf } from '../envelope/primitives';

/** §6.3: the MP3 is always an attachment, `cid:`; AUDIO_MPEG is the only 1.0 format. */
export const Speak = t.type({ url: CidUrl, format: t.literal('AUDIO_MPEG'), token: t.string }, 'SpeakPayload');
export type Speak = t.TypeOf<typeof Speak>;

/** §6.4 */
export const SpeechEvent = t.type({ token: t.string }, 'SpeechEventPayload');

/** §6.1 / §6.2 (INTERRUPTED only comes with 1.3). */
export const SpeechActivity = oneOf(['PLAYING', 'FINISHED']);
export const SpeechState = t.type(
  { token: t.string, offsetInMilliseconds: NonNegativeLong, playerActivity: SpeechActivity },
  'SpeechStatePayload',
);
export type SpeechState = t.TypeOf<typeof SpeechState>;

export const SpeechSynthesizer = defineInterface({
  namespace: 'SpeechSynthesizer',
  version: '1.0',
  directives: { Speak },
  events: { SpeechStarted: SpeechEvent, SpeechFinished: SpeechEvent },
  context: { SpeechState },
  eventsWithContext: [],
  eventsWithDialogRequestId: [],
});

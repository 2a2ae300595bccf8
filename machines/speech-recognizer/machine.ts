// PROTOCOL.md §5: SpeechRecognizer 2.0 — IDLE, RECOGNIZING, BUSY, EXPECTING_SPEECH (§5.1).
// A capture starts from a tap, a press-and-hold, a wake word or an ExpectSpeech; it makes a new
// dialog (§2.4, §4.4 step 1: the runtime makes it current before anything is sent), takes the
// Dialog channel and, once in the foreground (§5.3), runs the `recognize` actor: the microphone
// streamed into one Recognize event (§1.4). Capture ends by StopCapture (NEAR/FAR_FIELD), by the
// button's release or the end of the audio (CLOSE_TALK), or by losing focus.
import { assign, emit, enqueueActions, fromCallback, sendTo, setup } from 'xstate';
import { newDialogRequestId, outbound, type ContextMap, type DirectiveEventOf, type DirectiveReport, type OutboundEventOf } from '../catalog';
import type { FocusChangedEvent, FocusEvent } from '../focus/machine';
import type { ExpectSpeech, Profile, Recognize } from './messages';

export const SPEECH_RECOGNIZER_ID = 'speechRecognizer';

/** How the capture began: decides the profile, the initiator and who may interrupt it (§4.5, §5.3). */
export type Trigger = 'TAP' | 'HOLD' | 'WAKEWORD' | 'EXPECT_SPEECH';

export interface WakeWordIndices {
  readonly startIndexInSamples: number;
  readonly endIndexInSamples: number;
}

export interface SpeechRecognizerInput {
  /** §5.3: the profile of a tap (NEAR_FIELD) and of a wake word (FAR_FIELD); press-and-hold is CLOSE_TALK. */
  readonly tapProfile?: Profile;
  readonly wakeWordProfile?: Profile;
  /** §5.6: open the microphone by itself on ExpectSpeech (tap / wake-word devices), or wait for the user. */
  readonly listenOnExpectSpeech?: boolean;
  /** §5.2: the device has a wake word (then RecognizerState is in the context). */
  readonly wakeWord?: boolean;
}

export interface SpeechRecognizerContext {
  readonly tapProfile: Profile;
  readonly wakeWordProfile: Profile;
  readonly listenOnExpectSpeech: boolean;
  readonly wakeWord: boolean;
  dialogRequestId: string | undefined;
  trigger: Trigger | undefined;
  /** The Recognize payload of the capture in progress. */
  recognize: Recognize | undefined;
  /** The ExpectSpeech being answered (§5.6): its timeout and the initiator to echo. */
  expect: ExpectSpeech | undefined;
  /** A StopCapture that came before the Recognize went out (§5.5 "deferred stop"). */
  stopRequested: boolean;
}

/** What the recognize actor reports. */
export type RecognizeFeedback =
  /** The audio part is closed: the microphone stopped or its stream ended. */
  | { type: 'RECOGNIZE.CAPTURE_ENDED' }
  /** AVS's answer is complete (its directives are in the pipeline). */
  | { type: 'RECOGNIZE.RESPONDED' }
  | { type: 'RECOGNIZE.FAILED'; message: string };

export type SpeechRecognizerEvent =
  | { type: 'USER.TAP' }
  | { type: 'USER.HOLD' }
  | { type: 'USER.RELEASE' }
  | { type: 'USER.WAKEWORD'; indices: WakeWordIndices }
  /** Give up the capture in progress (a local cancel). */
  | { type: 'USER.CANCEL' }
  | DirectiveEventOf<'SpeechRecognizer', 'StopCapture'>
  | DirectiveEventOf<'SpeechRecognizer', 'ExpectSpeech'>
  | FocusChangedEvent
  | RecognizeFeedback;

export type SpeechRecognizerEmitted =
  | OutboundEventOf<'SpeechRecognizer', 'ExpectSpeechTimedOut'>
  | DirectiveReport
  /** §4.4 step 1: make this the current dialog before the Recognize goes. */
  | { type: 'DIALOG.STARTED'; dialogRequestId: string }
  /** §5.1 (SDK): entering or leaving RECOGNIZING is user activity (§11.2). */
  | { type: 'USER.ACTIVITY' };

export interface RecognizeInput {
  readonly dialogRequestId: string;
  readonly payload: Recognize;
}

/** The command the machine sends the recognize actor. */
export type RecognizeCommand = { type: 'STOP' };

/** Replaced by the runtime (microphone + transport); alone, it cannot capture. */
const recognize = fromCallback<RecognizeCommand, RecognizeInput>(({ sendBack }) => {
  sendBack({ type: 'RECOGNIZE.FAILED', message: 'no microphone' });
});

const FORMAT = 'AUDIO_L16_RATE_16000_CHANNELS_1' as const;

export const speechRecognizerMachine = setup({
  types: {
    context: {} as SpeechRecognizerContext,
    events: {} as SpeechRecognizerEvent,
    input: {} as SpeechRecognizerInput,
    emitted: {} as SpeechRecognizerEmitted,
  },
  actors: { recognize },
  delays: {
    /** §5.6 */
    EXPECT_SPEECH_TIMEOUT: ({ context }) => context.expect?.timeoutInMilliseconds ?? 0,
  },
  guards: {
    focusIs: ({ event }, params: { focus: FocusChangedEvent['focus'] }) => event.type === 'FOCUS.CHANGED' && event.channel === 'Dialog' && event.focus === params.focus,
    focusLost: ({ event }) => event.type === 'FOCUS.CHANGED' && event.channel === 'Dialog' && event.focus !== 'FOREGROUND',
    /** §4.5 (SDK sample app): a tap or a press may interrupt a capture, unless that capture is a press-and-hold. */
    mayInterrupt: ({ context }) => context.trigger !== 'HOLD',
    holding: ({ context }) => context.trigger === 'HOLD',
    listensOnExpectSpeech: ({ context }) => context.listenOnExpectSpeech,
    stopRequested: ({ context }) => context.stopRequested,
    answeringExpectSpeech: ({ context }) => context.expect !== undefined,
  },
  actions: {
    /** A new capture: a new dialog (§2.4), the profile and initiator of §5.3. */
    begin: assign(({ context }, params: { trigger: Trigger; indices?: WakeWordIndices }) => {
      const answering = context.expect;
      const profile: Profile = params.trigger === 'HOLD' ? 'CLOSE_TALK' : params.trigger === 'WAKEWORD' ? context.wakeWordProfile : context.tapProfile;
      // §5.3: answering an ExpectSpeech echoes its initiator verbatim, or sends none.
      const initiator: Recognize['initiator'] | undefined = answering
        ? (answering.initiator as Recognize['initiator'] | undefined)
        : params.trigger === 'WAKEWORD'
          ? { type: 'WAKEWORD', payload: { wakeWordIndices: params.indices ?? { startIndexInSamples: 0, endIndexInSamples: 0 } } }
          : { type: params.trigger === 'HOLD' ? 'PRESS_AND_HOLD' : 'TAP', payload: {} };
      return {
        dialogRequestId: newDialogRequestId(),
        trigger: answering && params.trigger === 'EXPECT_SPEECH' ? 'EXPECT_SPEECH' : params.trigger,
        recognize: { profile, format: FORMAT, ...(initiator ? { initiator } : {}) },
        // Kept while the answer to an ExpectSpeech has not started streaming (§5.6).
        expect: answering,
        stopRequested: false,
      };
    }),
    dialogStarted: emit(({ context }) => ({ type: 'DIALOG.STARTED' as const, dialogRequestId: context.dialogRequestId ?? '' })),
    expect: assign((_, params: ExpectSpeech) => ({ expect: params })),
    forgetExpect: assign({ expect: undefined }),
    requestStop: assign({ stopRequested: true }),
    reset: assign({ trigger: undefined, recognize: undefined, expect: undefined, stopRequested: false }),
    acquireDialog: enqueueActions(({ enqueue, system }) => {
      const focus = system.get('focus');
      const request: FocusEvent = { type: 'FOCUS.ACQUIRE', channel: 'Dialog', owner: SPEECH_RECOGNIZER_ID };
      if (focus) enqueue.sendTo(focus, request);
    }),
    releaseDialog: enqueueActions(({ enqueue, system }) => {
      const focus = system.get('focus');
      const request: FocusEvent = { type: 'FOCUS.RELEASE', channel: 'Dialog', owner: SPEECH_RECOGNIZER_ID };
      if (focus) enqueue.sendTo(focus, request);
    }),
    startRecognize: enqueueActions(({ context, enqueue }) => {
      enqueue.stopChild('recognize');
      enqueue.spawnChild('recognize', { id: 'recognize', input: { dialogRequestId: context.dialogRequestId ?? '', payload: context.recognize ?? { profile: context.tapProfile, format: FORMAT } } });
    }),
    /** §5.5: close the microphone and the audio part now; the answer is still read. */
    stopCapture: sendTo('recognize', { type: 'STOP' } satisfies RecognizeCommand),
    /** Drops the capture and, if its audio is still going, the request with it. */
    endRecognize: enqueueActions(({ enqueue }) => enqueue.stopChild('recognize')),
    activity: emit({ type: 'USER.ACTIVITY' as const }),
    /** §5.4 */
    timedOut: emit(() => outbound('SpeechRecognizer', 'ExpectSpeechTimedOut', {})),
    /** §4.4 (SDK): ExpectSpeech is done once the machine is expecting speech. */
    expectCompleted: emit((_, params: { messageId: string }) => ({ type: 'DIRECTIVE.COMPLETED' as const, messageId: params.messageId })),
    /** §5.6: only in IDLE or BUSY. */
    expectRefused: emit((_, params: { messageId: string }) => ({
      type: 'DIRECTIVE.FAILED' as const,
      messageId: params.messageId,
      message: 'ExpectSpeech while the microphone is already open',
    })),
  },
}).createMachine({
  id: 'speechRecognizer',
  context: ({ input }) => ({
    tapProfile: input.tapProfile ?? 'NEAR_FIELD',
    wakeWordProfile: input.wakeWordProfile ?? 'FAR_FIELD',
    listenOnExpectSpeech: input.listenOnExpectSpeech ?? true,
    wakeWord: input.wakeWord ?? false,
    dialogRequestId: undefined,
    trigger: undefined,
    recognize: undefined,
    expect: undefined,
    stopRequested: false,
  }),
  initial: 'IDLE',
  states: {
    IDLE: {
      entry: ['endRecognize', 'reset', 'releaseDialog'],
      on: {
        'USER.TAP': { target: 'RECOGNIZING', actions: [{ type: 'begin', params: { trigger: 'TAP' } }, 'dialogStarted'] },
        'USER.HOLD': { target: 'RECOGNIZING', actions: [{ type: 'begin', params: { trigger: 'HOLD' } }, 'dialogStarted'] },
        'USER.WAKEWORD': { target: 'RECOGNIZING', actions: [{ type: 'begin', params: ({ event }) => ({ trigger: 'WAKEWORD', indices: event.indices }) }, 'dialogStarted'] },
        'DIRECTIVE.ExpectSpeech': {
          target: 'EXPECTING_SPEECH',
          actions: [{ type: 'expect', params: ({ event }) => event.payload }, { type: 'expectCompleted', params: ({ event }) => ({ messageId: event.messageId }) }],
        },
        // §5.5: StopCapture outside RECOGNIZING is ignored, without an exception.
      },
    },
    RECOGNIZING: {
      entry: ['activity', 'acquireDialog'],
      exit: 'activity',
      initial: 'WAITING_FOR_FOCUS',
      on: {
        // §4.5 barge-in on a capture in progress: a new dialog, unless the capture is a press-and-hold.
        'USER.TAP': {
          guard: 'mayInterrupt',
          target: 'RECOGNIZING',
          reenter: true,
          actions: ['endRecognize', 'forgetExpect', { type: 'begin', params: { trigger: 'TAP' } }, 'dialogStarted'],
        },
        'USER.HOLD': {
          guard: 'mayInterrupt',
          target: 'RECOGNIZING',
          reenter: true,
          actions: ['endRecognize', 'forgetExpect', { type: 'begin', params: { trigger: 'HOLD' } }, 'dialogStarted'],
        },
        'USER.CANCEL': 'IDLE',
        'DIRECTIVE.ExpectSpeech': { actions: { type: 'expectRefused', params: ({ event }) => ({ messageId: event.messageId }) } },
        // §5.4/§5.6: the microphone never opened (no microphone, not connected) for an ExpectSpeech: it timed out.
        'RECOGNIZE.FAILED': [{ guard: 'answeringExpectSpeech', target: 'IDLE', actions: 'timedOut' }, { target: 'IDLE' }],
        // §5.3: AVS closed the stream without a StopCapture (an unverified wake word): the capture is over.
        'RECOGNIZE.RESPONDED': 'IDLE',
      },
      states: {
        /** §5.3 (SDK): the event goes only once the Dialog channel is in the foreground. */
        WAITING_FOR_FOCUS: {
          on: {
            'FOCUS.CHANGED': [
              { guard: { type: 'focusIs', params: { focus: 'FOREGROUND' } }, target: 'STREAMING' },
              { guard: { type: 'focusIs', params: { focus: 'NONE' } }, target: '#speechRecognizer.IDLE' },
            ],
            'DIRECTIVE.StopCapture': { actions: 'requestStop' },
            'USER.RELEASE': { guard: 'holding', target: '#speechRecognizer.IDLE' },
          },
        },
        STREAMING: {
          entry: 'startRecognize',
          always: { guard: 'stopRequested', target: '#speechRecognizer.BUSY', actions: 'stopCapture' },
          on: {
            // §5.5 (NEAR/FAR_FIELD) and §5.3 (CLOSE_TALK: the release ends it).
            'DIRECTIVE.StopCapture': { target: '#speechRecognizer.BUSY', actions: 'stopCapture' },
            'USER.RELEASE': { guard: 'holding', target: '#speechRecognizer.BUSY', actions: 'stopCapture' },
            'RECOGNIZE.CAPTURE_ENDED': '#speechRecognizer.BUSY',
            // §4.2: NONE (or background) while capturing: stop, close the audio part, IDLE.
            'FOCUS.CHANGED': { guard: 'focusLost', target: '#speechRecognizer.IDLE' },
          },
        },
      },
    },
    /** Waiting for AVS's answer; §4.5: no new interaction may start here. */
    BUSY: {
      entry: 'forgetExpect',
      on: {
        'RECOGNIZE.RESPONDED': 'IDLE',
        'RECOGNIZE.FAILED': 'IDLE',
        // The answer's Speak took the Dialog channel: the recognizer's part is over (its answer is still read).
        'FOCUS.CHANGED': { guard: 'focusLost', target: 'IDLE' },
        'DIRECTIVE.ExpectSpeech': {
          target: 'EXPECTING_SPEECH',
          actions: [{ type: 'expect', params: ({ event }) => event.payload }, { type: 'expectCompleted', params: ({ event }) => ({ messageId: event.messageId }) }],
        },
        'USER.CANCEL': 'IDLE',
      },
    },
    // The Dialog channel stays taken while the device waits for the answer (music stays paused).
    EXPECTING_SPEECH: {
      entry: 'endRecognize',
      // §5.6: a device that can listen by itself starts a new Recognize at once (the timer stops).
      always: {
        guard: 'listensOnExpectSpeech',
        target: 'RECOGNIZING',
        actions: [{ type: 'begin', params: { trigger: 'EXPECT_SPEECH' } }, 'dialogStarted'],
      },
      after: { EXPECT_SPEECH_TIMEOUT: { target: 'IDLE', actions: ['timedOut', 'forgetExpect'] } },
      on: {
        'USER.TAP': { target: 'RECOGNIZING', actions: [{ type: 'begin', params: { trigger: 'TAP' } }, 'dialogStarted'] },
        'USER.HOLD': { target: 'RECOGNIZING', actions: [{ type: 'begin', params: { trigger: 'HOLD' } }, 'dialogStarted'] },
        'USER.WAKEWORD': { target: 'RECOGNIZING', actions: [{ type: 'begin', params: ({ event }) => ({ trigger: 'WAKEWORD', indices: event.indices }) }, 'dialogStarted'] },
        'USER.CANCEL': { target: 'IDLE', actions: 'forgetExpect' },
        // §5.6: only in IDLE or BUSY.
        'DIRECTIVE.ExpectSpeech': { actions: { type: 'expectRefused', params: ({ event }) => ({ messageId: event.messageId }) } },
      },
    },
  },
});

/** §5.2: RecognizerState, only on a device with a wake word. */
export function speechRecognizerContext(snapshot: { context: SpeechRecognizerContext }): ContextMap['SpeechRecognizer']['RecognizerState'] | undefined {
  return snapshot.context.wakeWord ? { header: { namespace: 'SpeechRecognizer', name: 'RecognizerState' }, payload: { wakeword: 'ALEXA' } } : undefined;
}

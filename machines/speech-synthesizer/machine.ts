// PROTOCOL.md §6: SpeechSynthesizer 1.0 — plays Speak's MP3 attachment on the Dialog channel.
// §6.1's two states are the top level: FINISHED and PLAYING. Inside PLAYING the machine first
// waits for the Dialog channel's foreground (§6.3), then plays: BUFFERING until sound starts
// (SpeechStarted, §6.4), SPEAKING until it ends (SpeechFinished). Losing focus stops it without
// SpeechFinished (§6.3, §4.2). Speak blocks the dialog queue (§4.4): the machine reports each one
// COMPLETED, FAILED or STOPPED to the router.
import { assign, emit, enqueueActions, fromCallback, setup } from 'xstate';
import { outbound, type ContextMap, type DirectiveEventOf, type DirectiveReport, type OutboundEventOf } from '../catalog';
import type { FocusChangedEvent, FocusEvent } from '../focus/machine';

/** The systemId this machine acquires the Dialog channel under (focus notifies it by that name). */
export const SPEECH_SYNTHESIZER_ID = 'speechSynthesizer';

export interface SpeakItem {
  readonly messageId: string;
  readonly token: string;
  readonly url: string;
}

export interface SpeechSynthesizerContext {
  /** §6.2: the token of the most recent Speak ('' before the first). */
  token: string;
  offsetMs: number;
  current: SpeakItem | undefined;
  /** Speaks that arrived while one played (only ones without a dialogRequestId can, §6.3). */
  queue: SpeakItem[];
}

/** What the playback actor reports (the runtime plays the attachment on the output driver). */
export type PlaybackFeedback =
  | { type: 'PLAYBACK.STARTED' }
  | { type: 'PLAYBACK.PROGRESS'; offsetMs: number }
  | { type: 'PLAYBACK.FINISHED'; offsetMs: number }
  | { type: 'PLAYBACK.FAILED'; message: string };

export type SpeechSynthesizerEvent =
  | DirectiveEventOf<'SpeechSynthesizer', 'Speak'>
  | { type: 'DIRECTIVE.CANCEL'; messageId: string }
  | FocusChangedEvent
  | PlaybackFeedback;

export type SpeechSynthesizerEmitted =
  | OutboundEventOf<'SpeechSynthesizer', 'SpeechStarted'>
  | OutboundEventOf<'SpeechSynthesizer', 'SpeechFinished'>
  | DirectiveReport;

export interface PlaySpeechInput {
  readonly url: string;
  readonly token: string;
}

/** Replaced by the runtime; alone, the machine plays nothing and says so. */
const playSpeech = fromCallback<{ type: 'NONE' }, PlaySpeechInput>(({ sendBack }) => {
  sendBack({ type: 'PLAYBACK.FAILED', message: 'no audio output' });
});

export const speechSynthesizerMachine = setup({
  types: {
    context: {} as SpeechSynthesizerContext,
    events: {} as SpeechSynthesizerEvent,
    emitted: {} as SpeechSynthesizerEmitted,
  },
  actors: { playSpeech },
  delays: { HANDOVER: 0 },
  guards: {
    focusIs: ({ event }, params: { focus: FocusChangedEvent['focus'] }) => event.type === 'FOCUS.CHANGED' && event.channel === 'Dialog' && event.focus === params.focus,
    focusLost: ({ event }) => event.type === 'FOCUS.CHANGED' && event.channel === 'Dialog' && event.focus !== 'FOREGROUND',
    cancelsCurrent: ({ context, event }) => event.type === 'DIRECTIVE.CANCEL' && context.current?.messageId === event.messageId,
    hasQueued: ({ context }) => context.queue.length > 0,
  },
  actions: {
    enqueue: assign(({ context }, params: SpeakItem) => ({ queue: [...context.queue, params] })),
    /** Takes the next Speak; §6.2 token is that of the most recent Speak. */
    takeNext: assign(({ context }) => {
      const [next, ...rest] = context.queue;
      return { current: next, queue: rest, token: next?.token ?? context.token, offsetMs: 0 };
    }),
    dropQueued: assign(({ context, event }) => (event.type === 'DIRECTIVE.CANCEL' ? { queue: context.queue.filter((s) => s.messageId !== event.messageId) } : {})),
    clearCurrent: assign({ current: undefined, offsetMs: 0 }),
    setOffset: assign(({ event }) => (event.type === 'PLAYBACK.PROGRESS' || event.type === 'PLAYBACK.FINISHED' ? { offsetMs: event.offsetMs } : {})),
    acquireDialog: enqueueActions(({ enqueue, system }) => {
      const focus = system.get('focus');
      const request: FocusEvent = { type: 'FOCUS.ACQUIRE', channel: 'Dialog', owner: SPEECH_SYNTHESIZER_ID };
      if (focus) enqueue.sendTo(focus, request);
    }),
    releaseDialog: enqueueActions(({ enqueue, system }) => {
      const focus = system.get('focus');
      const request: FocusEvent = { type: 'FOCUS.RELEASE', channel: 'Dialog', owner: SPEECH_SYNTHESIZER_ID };
      if (focus) enqueue.sendTo(focus, request);
    }),
    /** §6.4 */
    speechStarted: emit(({ context }) => outbound('SpeechSynthesizer', 'SpeechStarted', { token: context.current?.token ?? context.token })),
    speechFinished: emit(({ context }) => outbound('SpeechSynthesizer', 'SpeechFinished', { token: context.current?.token ?? context.token })),
    completed: emit(({ context }) => ({ type: 'DIRECTIVE.COMPLETED' as const, messageId: context.current?.messageId ?? '' })),
    failed: emit(({ context, event }) => ({
      type: 'DIRECTIVE.FAILED' as const,
      messageId: context.current?.messageId ?? '',
      message: event.type === 'PLAYBACK.FAILED' ? `Speak could not be played: ${event.message}` : 'Speak could not be played',
    })),
    /** §6.3: a Speak stopped by a focus change ends quietly; the rest of its dialog does not run. */
    stopped: emit(({ context }) => ({ type: 'DIRECTIVE.STOPPED' as const, messageId: context.current?.messageId ?? '', reason: 'the Dialog channel was taken' })),
  },
}).createMachine({
  id: 'speechSynthesizer',
  context: { token: '', offsetMs: 0, current: undefined, queue: [] },
  initial: 'FINISHED',
  on: {
    'DIRECTIVE.Speak': { actions: { type: 'enqueue', params: ({ event }) => ({ messageId: event.messageId, token: event.payload.token, url: event.payload.url }) } },
    'DIRECTIVE.CANCEL': { actions: 'dropQueued' },
  },
  states: {
    FINISHED: {
      always: { guard: 'hasQueued', target: 'PLAYING' },
    },
    PLAYING: {
      entry: ['takeNext', 'acquireDialog'],
      exit: ['clearCurrent'],
      initial: 'ACQUIRING_FOCUS',
      on: {
        // §4.4 step 1: a new dialog cancels it — stop at once, no event (§4.5).
        'DIRECTIVE.CANCEL': [{ guard: 'cancelsCurrent', target: '.DONE' }, { actions: 'dropQueued' }],
      },
      states: {
        // Every acquire is answered, in order (machines/focus): a NONE seen here is the answer to
        // this machine's own release after the previous Speak, not news. A loss after the grant
        // arrives after FOREGROUND and is handled in OUTPUT.
        ACQUIRING_FOCUS: {
          on: {
            'FOCUS.CHANGED': { guard: { type: 'focusIs', params: { focus: 'FOREGROUND' } }, target: 'OUTPUT' },
          },
        },
        OUTPUT: {
          invoke: { src: 'playSpeech', input: ({ context }) => ({ url: context.current?.url ?? '', token: context.current?.token ?? '' }) },
          initial: 'BUFFERING',
          on: {
            'PLAYBACK.PROGRESS': { actions: 'setOffset' },
            'PLAYBACK.FINISHED': { target: '#speechSynthesizer.PLAYING.DONE', actions: ['setOffset', 'speechFinished', 'completed'] },
            'PLAYBACK.FAILED': { target: '#speechSynthesizer.PLAYING.DONE', actions: 'failed' },
            // §6.3 / §4.2: background or none — stop speaking, no SpeechFinished.
            'FOCUS.CHANGED': { guard: 'focusLost', target: '#speechSynthesizer.PLAYING.DONE', actions: 'stopped' },
          },
          states: {
            BUFFERING: {
              on: {
                'PLAYBACK.STARTED': { target: 'SPEAKING', actions: 'speechStarted' },
                // An empty attachment played "to its end" at once: it still started (§6.4 in pairs).
                'PLAYBACK.FINISHED': { target: '#speechSynthesizer.PLAYING.DONE', actions: ['speechStarted', 'setOffset', 'speechFinished', 'completed'] },
              },
            },
            SPEAKING: {},
          },
        },
        /**
         * Over, one way or another: give the channel back (§6.3) unless another Speak follows. The
         * next Speak of a dialog is handed over only after this one is reported done, so the
         * channel is kept for one turn of the event loop: music does not resume between two Speaks.
         */
        DONE: {
          always: { guard: 'hasQueued', target: '#speechSynthesizer.PLAYING', reenter: true },
          after: { HANDOVER: { target: '#speechSynthesizer.FINISHED', actions: 'releaseDialog' } },
        },
      },
    },
  },
});

/** §6.2: SpeechState now. */
export function speechSynthesizerContext(snapshot: {
  context: SpeechSynthesizerContext;
  matches: (state: { PLAYING: 'OUTPUT' }) => boolean;
}): ContextMap['SpeechSynthesizer']['SpeechState'] {
  const playing = snapshot.matches({ PLAYING: 'OUTPUT' });
  return {
    header: { namespace: 'SpeechSynthesizer', name: 'SpeechState' },
    payload: { token: snapshot.context.token, offsetInMilliseconds: playing ? Math.max(0, Math.round(snapshot.context.offsetMs)) : 0, playerActivity: playing ? 'PLAYING' : 'FINISHED' },
  };
}

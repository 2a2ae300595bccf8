// PROTOCOL.md §10: the Speaker — one volume (0..100) and a mute state for all AVS audio (1.0).
// Muted or not is the state value; the volume is context. Every change, from AVS or from the
// device's own controls, is reported to AVS (§10.3) and handed to the audio output.
import { assign, emit, enqueueActions, setup } from 'xstate';
import { outbound, type ContextMap, type DirectiveEventsOf, type OutboundEventOf } from '../catalog';

export interface SpeakerInput {
  /** The persisted volume and mute state (defaults: 50, not muted). */
  readonly volume?: number;
  readonly muted?: boolean;
}

export interface SpeakerContext {
  volume: number;
}

export type SpeakerEvent =
  | DirectiveEventsOf<'Speaker'>
  /** The device's own controls (buttons, app, API): reported to AVS too (§10.3). */
  | { type: 'USER.SET_VOLUME'; volume: number }
  | { type: 'USER.ADJUST_VOLUME'; by: number }
  | { type: 'USER.MUTE' }
  | { type: 'USER.UNMUTE' };

/** What the runtime carries out: the AVS events, and the output driver's volume (which it also persists). */
export type SpeakerEmitted =
  | OutboundEventOf<'Speaker', 'VolumeChanged'>
  | OutboundEventOf<'Speaker', 'MuteChanged'>
  | { type: 'OUTPUT.VOLUME'; volume: number; muted: boolean };

const clamp = (v: number): number => Math.max(0, Math.min(100, Math.round(v)));

export const speakerMachine = setup({
  types: {
    context: {} as SpeakerContext,
    events: {} as SpeakerEvent,
    input: {} as SpeakerInput,
    emitted: {} as SpeakerEmitted,
  },
  guards: {
    /** The persisted mute state, read once at start from the init event's input. */
    startsMuted: ({ event }) => (event as unknown as { input?: SpeakerInput }).input?.muted === true,
    muteAsked: ({ event }) => event.type === 'DIRECTIVE.SetMute' && event.payload.mute,
    unmuteAsked: ({ event }) => event.type === 'DIRECTIVE.SetMute' && !event.payload.mute,
  },
  actions: {
    setVolume: assign((_, params: { volume: number }) => ({ volume: clamp(params.volume) })),
    /** §10.2: the result of AdjustVolume is clamped into 0..100. */
    adjustVolume: assign(({ context }, params: { by: number }) => ({ volume: clamp(context.volume + params.by) })),
    applyOutput: emit(({ context }, params: { muted: boolean }) => ({ type: 'OUTPUT.VOLUME' as const, volume: context.volume, muted: params.muted })),
    /** §10.3 */
    reportMute: emit(({ context }, params: { muted: boolean }) => outbound('Speaker', 'MuteChanged', { volume: context.volume, muted: params.muted })),
    /** After any volume change (which always leaves the speaker audible): drive the output, tell AVS. */
    volumeChanged: enqueueActions(({ context, enqueue }) => {
      enqueue.emit({ type: 'OUTPUT.VOLUME', volume: context.volume, muted: false });
      enqueue.emit(outbound('Speaker', 'VolumeChanged', { volume: context.volume, muted: false }));
    }),
  },
}).createMachine({
  id: 'speaker',
  context: ({ input }) => ({ volume: clamp(input.volume ?? 50) }),
  initial: 'STARTING',
  // §10.2 (SDK): changing the volume while muted unmutes first; only VolumeChanged is sent, its
  // muted:false telling the unmute. So a volume change always ends AUDIBLE.
  on: {
    'DIRECTIVE.SetVolume': {
      target: '.AUDIBLE',
      actions: [
        { type: 'setVolume', params: ({ event }) => ({ volume: event.payload.volume }) },
        'volumeChanged',
      ],
    },
    'USER.SET_VOLUME': {
      target: '.AUDIBLE',
      actions: [
        { type: 'setVolume', params: ({ event }) => ({ volume: event.volume }) },
        'volumeChanged',
      ],
    },
    'DIRECTIVE.AdjustVolume': {
      target: '.AUDIBLE',
      actions: [
        { type: 'adjustVolume', params: ({ event }) => ({ by: event.payload.volume }) },
        'volumeChanged',
      ],
    },
    'USER.ADJUST_VOLUME': {
      target: '.AUDIBLE',
      actions: [
        { type: 'adjustVolume', params: ({ event }) => ({ by: event.by }) },
        'volumeChanged',
      ],
    },
  },
  states: {
    STARTING: {
      always: [{ guard: 'startsMuted', target: 'MUTED' }, { target: 'AUDIBLE' }],
    },
    AUDIBLE: {
      on: {
        'DIRECTIVE.SetMute': [
          {
            guard: 'muteAsked',
            target: 'MUTED',
            actions: [{ type: 'applyOutput', params: { muted: true } }, { type: 'reportMute', params: { muted: true } }],
          },
          // Already audible: nothing changes, but AVS asked, so it hears the state (§10.2).
          { actions: { type: 'reportMute', params: { muted: false } } },
        ],
        'USER.MUTE': {
          target: 'MUTED',
          actions: [{ type: 'applyOutput', params: { muted: true } }, { type: 'reportMute', params: { muted: true } }],
        },
      },
    },
    MUTED: {
      on: {
        'DIRECTIVE.SetMute': [
          {
            guard: 'unmuteAsked',
            target: 'AUDIBLE',
            actions: [{ type: 'applyOutput', params: { muted: false } }, { type: 'reportMute', params: { muted: false } }],
          },
          { actions: { type: 'reportMute', params: { muted: true } } },
        ],
        'USER.UNMUTE': {
          target: 'AUDIBLE',
          actions: [{ type: 'applyOutput', params: { muted: false } }, { type: 'reportMute', params: { muted: false } }],
        },
      },
    },
  },
});

/** §10.1: the context entry for the speaker's current state. */
export function speakerContext(snapshot: { context: SpeakerContext; matches: (state: 'MUTED') => boolean }): ContextMap['Speaker']['VolumeState'] {
  return { header: { namespace: 'Speaker', name: 'VolumeState' }, payload: { volume: snapshot.context.volume, muted: snapshot.matches('MUTED') } };
}

// The device's attention state for LEDs and screens, after the AVS Device SDK's
// DialogUXStateAggregator: one value folded from the recognizer, the synthesizer, the dialog's
// response stream, the connection and the alerts. It decides nothing for AVS and sends nothing;
// the runtime feeds it other machines' snapshots and renders what it says.
//
// ALERTING is ours (the SDK leaves alerts to the app): an alert rings and no dialog is in
// progress. Dialog states win over it, and a dialog that ends while one rings lands back there.
import { assign, setup, type SnapshotFrom } from 'xstate';

export type Attention = 'IDLE' | 'LISTENING' | 'EXPECTING' | 'THINKING' | 'SPEAKING' | 'FINISHED' | 'ALERTING';

/** The speech recognizer's states as the SDK's AudioInputProcessor reports them. */
export type RecognizerState = 'IDLE' | 'RECOGNIZING' | 'BUSY' | 'EXPECTING_SPEECH';
export type SynthesizerState = 'PLAYING' | 'FINISHED';

export interface AttentionInput {
  /** How long FINISHED (or an answered THINKING) waits before IDLE (SDK SHORT_TIMEOUT: 200 ms). */
  readonly shortMs?: number;
  /** How long THINKING may wait for an answer (SDK THINKING_TIMEOUT: 8 s). */
  readonly thinkingTimeoutMs?: number;
}

export interface AttentionContext {
  /** An alert is ringing (from the alerts machine). */
  alertActive: boolean;
  /** The connection to AVS is up (from the connection machine). */
  connected: boolean;
  readonly shortMs: number;
  readonly thinkingTimeoutMs: number;
}

export type AttentionEvent =
  | { type: 'RECOGNIZER.CHANGED'; state: RecognizerState }
  | { type: 'SYNTHESIZER.CHANGED'; state: SynthesizerState }
  /** The response to the Recognize event has ended (SDK onRequestProcessingCompleted). */
  | { type: 'DIALOG.RESPONSE_COMPLETE' }
  | { type: 'ALERTS.CHANGED'; active: boolean }
  | { type: 'CONNECTION.CHANGED'; connected: boolean };

export const attentionMachine = setup({
  types: {
    context: {} as AttentionContext,
    events: {} as AttentionEvent,
    input: {} as AttentionInput,
  },
  delays: {
    SHORT: ({ context }) => context.shortMs,
    THINKING_TIMEOUT: ({ context }) => context.thinkingTimeoutMs,
  },
  guards: {
    recognizerIs: ({ event }, params: { state: RecognizerState }) => event.type === 'RECOGNIZER.CHANGED' && event.state === params.state,
    synthesizerIs: ({ event }, params: { state: SynthesizerState }) => event.type === 'SYNTHESIZER.CHANGED' && event.state === params.state,
    alertActive: ({ context }) => context.alertActive,
    alertQuiet: ({ context }) => !context.alertActive,
    disconnected: ({ event }) => event.type === 'CONNECTION.CHANGED' && !event.connected,
  },
  actions: {
    storeAlerts: assign((_, params: { active: boolean }) => ({ alertActive: params.active })),
    storeConnection: assign((_, params: { connected: boolean }) => ({ connected: params.connected })),
  },
}).createMachine({
  id: 'attention',
  context: ({ input }) => ({
    alertActive: false,
    // Nothing is connected until the connection machine says so.
    connected: false,
    shortMs: input.shortMs ?? 200,
    thinkingTimeoutMs: input.thinkingTimeoutMs ?? 8000,
  }),
  initial: 'IDLE',
  // SDK: the recognizer starting and speech playing take over from every state (a barge-in during
  // SPEAKING, a new turn while FINISHED, a dialog over a ringing alert), and each restarts the
  // state it enters (a second BUSY restarts the thinking timer, as the SDK's timer.start does).
  on: {
    'RECOGNIZER.CHANGED': [
      { guard: { type: 'recognizerIs', params: { state: 'RECOGNIZING' } }, target: '.LISTENING' },
      { guard: { type: 'recognizerIs', params: { state: 'EXPECTING_SPEECH' } }, target: '.EXPECTING' },
      { guard: { type: 'recognizerIs', params: { state: 'BUSY' } }, target: '.THINKING' },
    ],
    'SYNTHESIZER.CHANGED': { guard: { type: 'synthesizerIs', params: { state: 'PLAYING' } }, target: '.SPEAKING' },
    'ALERTS.CHANGED': { actions: { type: 'storeAlerts', params: ({ event }) => ({ active: event.active }) } },
    'CONNECTION.CHANGED': { actions: { type: 'storeConnection', params: ({ event }) => ({ connected: event.connected }) } },
  },
  states: {
    // IDLE and ALERTING follow context.alertActive, so every way a dialog ends (target IDLE)
    // lands in ALERTING while an alert rings, without a snapshot of IDLE in between.
    IDLE: {
      always: { guard: 'alertActive', target: 'ALERTING' },
    },
    ALERTING: {
      always: { guard: 'alertQuiet', target: 'IDLE' },
    },
    LISTENING: {
      on: {
        // Capture cancelled or nothing heard: the turn is over.
        'RECOGNIZER.CHANGED': { guard: { type: 'recognizerIs', params: { state: 'IDLE' } }, target: 'IDLE' },
        // SDK onConnectionStatusChanged: without AVS nobody is listening.
        'CONNECTION.CHANGED': [
          { guard: 'disconnected', target: 'IDLE', actions: { type: 'storeConnection', params: { connected: false } } },
          { actions: { type: 'storeConnection', params: ({ event }) => ({ connected: event.connected }) } },
        ],
      },
    },
    EXPECTING: {
      on: {
        // ExpectSpeech timed out without the user speaking.
        'RECOGNIZER.CHANGED': { guard: { type: 'recognizerIs', params: { state: 'IDLE' } }, target: 'IDLE' },
        'CONNECTION.CHANGED': [
          { guard: 'disconnected', target: 'IDLE', actions: { type: 'storeConnection', params: { connected: false } } },
          { actions: { type: 'storeConnection', params: ({ event }) => ({ connected: event.connected }) } },
        ],
      },
    },
    // The recognizer going IDLE here changes nothing: the answer is still on its way, and
    // THINKING ends with speech, the end of the response, the timeout or a lost connection.
    THINKING: {
      initial: 'AWAITING_RESPONSE',
      // SDK THINKING_TIMEOUT: an answer that never comes must not leave the LEDs spinning.
      after: { THINKING_TIMEOUT: 'IDLE' },
      on: {
        'CONNECTION.CHANGED': [
          { guard: 'disconnected', target: 'IDLE', actions: { type: 'storeConnection', params: { connected: false } } },
          { actions: { type: 'storeConnection', params: ({ event }) => ({ connected: event.connected }) } },
        ],
      },
      states: {
        AWAITING_RESPONSE: {
          on: { 'DIALOG.RESPONSE_COMPLETE': 'RESPONSE_COMPLETE' },
        },
        // SDK onRequestProcessingCompleted → tryExitThinkingState: not IDLE at once, since a Speak
        // in the response may not have started playing yet; if it has not within the short
        // timeout, the answer had nothing to say (a SetVolume, say).
        RESPONSE_COMPLETE: {
          after: { SHORT: '#attention.IDLE' },
        },
      },
    },
    SPEAKING: {
      on: {
        'SYNTHESIZER.CHANGED': { guard: { type: 'synthesizerIs', params: { state: 'FINISHED' } }, target: 'FINISHED' },
      },
    },
    // SDK tryEnterIdleState: between two Speaks, or between speech and an ExpectSpeech, wait the
    // short timeout before IDLE so the LEDs do not flicker off and on within one multi-turn dialog.
    FINISHED: {
      after: { SHORT: 'IDLE' },
    },
  },
});

/** What the LEDs and screen show for a snapshot of the machine. */
export function attentionOf(snapshot: Pick<SnapshotFrom<typeof attentionMachine>, 'value'>): Attention {
  const value = snapshot.value;
  // THINKING is the only compound state; its substates are one attention.
  return typeof value === 'string' ? value : 'THINKING';
}

/**
 * The CONNECTION.CHANGED event for a snapshot of the connection machine: connected only once
 * SynchronizeState is accepted (ONLINE.CONNECTED), as the SDK's CONNECTED status.
 */
export function connectionChanged(snapshot: { matches: (state: { ONLINE: 'CONNECTED' }) => boolean }): AttentionEvent {
  return { type: 'CONNECTION.CHANGED', connected: snapshot.matches({ ONLINE: 'CONNECTED' }) };
}

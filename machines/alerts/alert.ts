// PROTOCOL.md §7: one alert (timer, alarm, reminder) — a child of the Alerts machine. It waits for
// its time through the `waitUntil` actor (the runtime's clock driver: never one long timer, and a
// wall-clock jump re-plans it, §7), is DUE until the Alerts machine gives it its turn (one alert
// sounds at a time, §7.6), then is ACTIVE: in the foreground or the background of the Alerts
// channel (§4.2), with the `render` actor playing its sound, for at most its maximum duration.
import { assign, enqueueActions, fromCallback, sendParent, setup } from 'xstate';
import { outbound, type OutboundEventOf } from '../catalog';
import type { FocusChangedEvent } from '../focus/machine';
import type { AlertType } from './messages';

/** §7.6: an alert sounds at most an hour when no loopCount ends it earlier. */
export const MAX_ALERT_DURATION_MS = 60 * 60 * 1000;

export interface AlertInput {
  readonly token: string;
  readonly type: AlertType;
  /** As received (§7.2 echoes it). */
  readonly scheduledTime: string;
  /** The same, ms since the epoch. */
  readonly scheduledAt: number;
  /** §7.3 (1.1): plays of the sound; absent: until stopped, for at most the maximum duration. */
  readonly loopCount?: number;
  readonly loopPauseMs?: number;
  readonly maxDurationMs?: number;
}

export interface AlertContext extends AlertInput {
  readonly maxDurationMs: number;
  /** AlertStarted was sent (the sound began). */
  started: boolean;
}

export type RenderMode = 'foreground' | 'background';

/** What the Alerts machine and the actors tell one alert. */
export type AlertEvent =
  | { type: 'ALERT.DUE' }
  /** Its turn to sound. */
  | { type: 'ALERT.ACTIVATE' }
  /** Stopped by the Alerts machine (deleted, stopped by the user, snoozed): quietly, it reports that itself. */
  | { type: 'ALERT.SILENCE' }
  | { type: 'ALERT.RESCHEDULE'; scheduledTime: string; scheduledAt: number }
  | FocusChangedEvent
  | { type: 'RENDER.STARTED' }
  /** The sound played its loopCount through. */
  | { type: 'RENDER.FINISHED' }
  | { type: 'RENDER.FAILED'; message: string };

/** What an alert tells the Alerts machine. */
export type AlertReport =
  | { type: 'ALERT.BECAME_DUE'; token: string }
  /** It stopped by itself (its time is up, its loops are done, the Alerts channel was taken). */
  | { type: 'ALERT.ENDED'; token: string; reason: string }
  | { type: 'ALERT.REPORT'; event: OutboundEventOf<'Alerts', 'AlertStarted' | 'AlertEnteredForeground' | 'AlertEnteredBackground'> };

export type RenderCommand = { type: 'SOUND'; mode: RenderMode };

export interface RenderInput {
  readonly type: AlertType;
  readonly loopCount?: number;
  readonly loopPauseMs?: number;
}

/** Replaced by the runtime (the clock driver); alone, an alert never comes due. */
const waitUntil = fromCallback<{ type: 'NONE' }, { at: number; token: string }>(() => undefined);
/** Replaced by the runtime (the output driver); alone, an alert is silent. */
const render = fromCallback<RenderCommand, RenderInput>(() => undefined);

const report = (event: AlertReport) => event;

export const alertMachine = setup({
  types: {
    context: {} as AlertContext,
    events: {} as AlertEvent,
    input: {} as AlertInput,
  },
  actors: { waitUntil, render },
  delays: {
    MAX_DURATION: ({ context }) => context.maxDurationMs,
  },
  guards: {
    focusIs: ({ event }, params: { focus: FocusChangedEvent['focus'] }) => event.type === 'FOCUS.CHANGED' && event.channel === 'Alerts' && event.focus === params.focus,
    started: ({ context }) => context.started,
  },
  actions: {
    becameDue: sendParent(({ context }) => report({ type: 'ALERT.BECAME_DUE', token: context.token })),
    ended: sendParent(({ context }, params: { reason: string }) => report({ type: 'ALERT.ENDED', token: context.token, reason: params.reason })),
    /** §7.6: AlertStarted when the sound actually starts — and, if it starts under speech, that it is in the background (§7.5). */
    soundStarted: enqueueActions(({ context, enqueue, self }) => {
      if (context.started) return;
      enqueue.assign({ started: true });
      enqueue.sendParent(report({ type: 'ALERT.REPORT', event: outbound('Alerts', 'AlertStarted', { token: context.token }) }));
      if (self.getSnapshot().matches({ ACTIVE: 'BACKGROUND' })) {
        enqueue.sendParent(report({ type: 'ALERT.REPORT', event: outbound('Alerts', 'AlertEnteredBackground', { token: context.token }) }));
      }
    }),
    /** §7.5: a sounding alert entering the foreground or the background (before its sound started, AlertStarted says it). */
    entered: enqueueActions(({ context, enqueue }, params: { mode: RenderMode }) => {
      enqueue.sendTo('render', { type: 'SOUND', mode: params.mode } satisfies RenderCommand);
      if (!context.started) return;
      const name = params.mode === 'foreground' ? 'AlertEnteredForeground' : 'AlertEnteredBackground';
      enqueue.sendParent(report({ type: 'ALERT.REPORT', event: outbound('Alerts', name, { token: context.token }) }));
    }),
    reschedule: assign(({ event }) => (event.type === 'ALERT.RESCHEDULE' ? { scheduledTime: event.scheduledTime, scheduledAt: event.scheduledAt, started: false } : {})),
  },
}).createMachine({
  id: 'alert',
  context: ({ input }) => ({ ...input, maxDurationMs: input.maxDurationMs ?? MAX_ALERT_DURATION_MS, started: false }),
  initial: 'SET',
  on: {
    // §7.3: the same token again is a new time (a snooze when it sounds).
    'ALERT.RESCHEDULE': { target: '.SET', reenter: true, actions: 'reschedule' },
    'ALERT.SILENCE': '.STOPPED',
  },
  states: {
    /** Stored, waiting for its time (§7). */
    SET: {
      invoke: { src: 'waitUntil', input: ({ context }) => ({ at: context.scheduledAt, token: context.token }) },
      on: { 'ALERT.DUE': { target: 'DUE', actions: 'becameDue' } },
    },
    /** Its time has come; another alert may be sounding (§7.6: one at a time). */
    DUE: {
      on: { 'ALERT.ACTIVATE': 'ACTIVE' },
    },
    ACTIVE: {
      invoke: { id: 'render', src: 'render', input: ({ context }) => ({ type: context.type, loopCount: context.loopCount, loopPauseMs: context.loopPauseMs }) },
      after: { MAX_DURATION: { target: 'STOPPED', actions: { type: 'ended', params: { reason: 'it sounded for its maximum duration' } } } },
      initial: 'WAITING_FOR_FOCUS',
      on: {
        'RENDER.STARTED': { actions: 'soundStarted' },
        'RENDER.FINISHED': { target: 'STOPPED', actions: { type: 'ended', params: { reason: 'its loops are done' } } },
        // A sound that cannot play must not leave an alert ringing silently for an hour.
        'RENDER.FAILED': { target: 'STOPPED', actions: { type: 'ended', params: { reason: 'its sound could not be played' } } },
        'FOCUS.CHANGED': [
          { guard: { type: 'focusIs', params: { focus: 'FOREGROUND' } }, target: '.FOREGROUND' },
          { guard: { type: 'focusIs', params: { focus: 'BACKGROUND' } }, target: '.BACKGROUND' },
        ],
      },
      states: {
        // Every acquire is answered (machines/focus): a NONE before the answer is stale news.
        WAITING_FOR_FOCUS: {},
        /** §7.6: the full sound. */
        FOREGROUND: { entry: { type: 'entered', params: { mode: 'foreground' } }, on: { 'FOCUS.CHANGED': lostFocus() } },
        /** §7.6: a short, softer tone while Dialog holds the foreground. */
        BACKGROUND: { entry: { type: 'entered', params: { mode: 'background' } }, on: { 'FOCUS.CHANGED': lostFocus() } },
      },
    },
    /**
     * Its end: nothing moves it on, and the Alerts machine stops it (stopChild). Not a final state:
     * a final one sends the parent `xstate.done.actor.alert:<token>`, an event type of its own for
     * every alert, and XState memoizes each state node's transitions per event type for the life
     * of the machine — one entry more per alert ever set (found by the soak's heap snapshots).
     */
    STOPPED: { on: { 'ALERT.RESCHEDULE': {}, 'ALERT.SILENCE': {} } },
  },
});


/** §4.2: NONE stops the sounding alert (it counts as a local stop); the other answers move it. */
function lostFocus() {
  return [
    { guard: { type: 'focusIs', params: { focus: 'FOREGROUND' } }, target: '#alert.ACTIVE.FOREGROUND' },
    { guard: { type: 'focusIs', params: { focus: 'BACKGROUND' } }, target: '#alert.ACTIVE.BACKGROUND' },
    { guard: { type: 'focusIs', params: { focus: 'NONE' } }, target: '#alert.STOPPED', actions: { type: 'ended', params: { reason: 'the Alerts channel was taken' } } },
  ] as const;
}

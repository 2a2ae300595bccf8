// PROTOCOL.md §7: the Alerts interface — every alert stored on the device, one child actor each
// (machines/alerts/alert.ts), one sounding at a time on the Alerts channel (§7.6). States are
// §7.1's: IDLE (nothing sounding) and ALERTING. What must survive a power cut is emitted as
// ALERTS.PUT / ALERTS.DELETE / ALERTS.ACTIVE *before* the event that reports it, so the runtime
// has written it when AVS hears of it (§7.3: store, then SetAlertSucceeded).
import { assign, emit, enqueueActions, setup, type ActorRefFrom } from 'xstate';
import { outbound, type ContextMap, type DirectiveEventOf, type OutboundEventOf } from '../catalog';
import { parseIsoDateTime } from '../envelope/primitives';
import type { FocusChangedEvent, FocusEvent } from '../focus/machine';
import { alertMachine, type AlertInput, type AlertReport } from './alert';
import type { AlertSummary, AlertType, SetAlert } from './messages';

export const ALERTS_ID = 'alerts';

/** §7.3 / §7.6: an alert more than this past its time is not set (SetAlertFailed) or, on boot, dropped. */
export const PAST_DUE_LIMIT_MS = 30 * 60 * 1000;

/** An alert as the device keeps it (the runtime's store, services/store/alert-store). */
export interface KeptAlert {
  readonly token: string;
  readonly type: AlertType;
  readonly scheduledTime: string;
  readonly scheduledAt: number;
  /** The other SetAlert fields (assets, loopCount, …). */
  readonly details: Record<string, unknown>;
  /** It was sounding (§7.6: re-armed on boot). */
  readonly active: boolean;
}

interface Entry {
  readonly alert: KeptAlert;
  readonly ref: ActorRefFrom<typeof alertMachine>;
}

export interface AlertsContext {
  alerts: Record<string, Entry>;
  /** The alert sounding (or about to). */
  active: string | undefined;
  /** Alerts whose time has come, waiting for their turn, in the order they came due. */
  due: string[];
}

export type AlertsEvent =
  | DirectiveEventOf<'Alerts', 'SetAlert'>
  | DirectiveEventOf<'Alerts', 'DeleteAlert'>
  /** The stored alerts, once the runtime listens (§7.6 on boot). */
  | { type: 'ALERTS.LOAD'; alerts: readonly KeptAlert[]; now: number }
  /** The user stopped the sounding alert on the device (§7.5: a local stop, without the cloud). */
  | { type: 'USER.STOP' }
  /** §7.3 (SDK): a SetAlert too malformed to decode (answered ExceptionEncountered) fails, when it names its token. */
  | { type: 'SETALERT.INVALID'; token: string }
  | FocusChangedEvent
  | AlertReport;

type AlertsEventName = 'SetAlertSucceeded' | 'SetAlertFailed' | 'DeleteAlertSucceeded' | 'DeleteAlertFailed' | 'AlertStarted' | 'AlertStopped' | 'AlertEnteredForeground' | 'AlertEnteredBackground';

export type AlertsEmitted =
  | { [N in AlertsEventName]: OutboundEventOf<'Alerts', N> }[AlertsEventName]
  | { type: 'ALERTS.PUT'; alert: KeptAlert }
  | { type: 'ALERTS.DELETE'; token: string }
  | { type: 'ALERTS.ACTIVE'; token: string; active: boolean };

const keptFrom = (payload: SetAlert, scheduledAt: number): KeptAlert => {
  const { token, type, scheduledTime, ...details } = payload;
  return { token, type, scheduledTime, scheduledAt, details, active: false };
};

const childInput = (alert: KeptAlert): AlertInput => {
  const loopCount = alert.details.loopCount;
  const loopPause = alert.details.loopPauseInMilliSeconds;
  return {
    token: alert.token,
    type: alert.type,
    scheduledTime: alert.scheduledTime,
    scheduledAt: alert.scheduledAt,
    ...(typeof loopCount === 'number' ? { loopCount } : {}),
    ...(typeof loopPause === 'number' ? { loopPauseMs: loopPause } : {}),
  };
};

const summary = (a: KeptAlert): AlertSummary => ({ token: a.token, type: a.type, scheduledTime: a.scheduledTime });

export const alertsMachine = setup({
  types: {
    context: {} as AlertsContext,
    events: {} as AlertsEvent,
    emitted: {} as AlertsEmitted,
  },
  actors: { alert: alertMachine },
  guards: {
    /** §7.3: a time more than 30 minutes past is refused; one that cannot be read too. */
    refused: ({ event }) => {
      if (event.type !== 'DIRECTIVE.SetAlert') return false;
      const at = parseIsoDateTime(event.payload.scheduledTime);
      return at === undefined || at < event.receivedAt - PAST_DUE_LIMIT_MS;
    },
    known: ({ context, event }) => (event.type === 'DIRECTIVE.SetAlert' || event.type === 'DIRECTIVE.DeleteAlert') && context.alerts[event.payload.token] !== undefined,
    isActive: ({ context, event }) => (event.type === 'DIRECTIVE.SetAlert' || event.type === 'DIRECTIVE.DeleteAlert') && context.active === event.payload.token,
    endedActive: ({ context, event }) => event.type === 'ALERT.ENDED' && context.active === event.token,
    /** An alert waits for its turn (only kept alerts count: one deleted meanwhile never sounds). */
    hasDue: ({ context }) => context.due.some((token) => context.alerts[token] !== undefined),
  },
  actions: {
    load: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ALERTS.LOAD') return;
      const alerts: Record<string, Entry> = { ...context.alerts };
      const toSpawn: KeptAlert[] = [];
      for (const alert of event.alerts) {
        if (alerts[alert.token]) continue;
        // §7.6: more than 30 minutes past due when the device came back: dropped, with AlertStopped.
        if (alert.scheduledAt < event.now - PAST_DUE_LIMIT_MS) {
          enqueue.emit({ type: 'ALERTS.DELETE', token: alert.token });
          enqueue.emit(outbound('Alerts', 'AlertStopped', { token: alert.token }));
          continue;
        }
        // Past due by less (or sounding when the device went down): it goes off now, the waitUntil firing at once.
        toSpawn.push(alert);
      }
      enqueue.assign(({ spawn }) => {
        for (const alert of toSpawn) alerts[alert.token] = { alert, ref: spawn('alert', { id: `alert:${alert.token}`, input: childInput(alert) }) };
        return { alerts };
      });
    }),
    /** §7.3: stored first, then SetAlertSucceeded. */
    setAlert: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'DIRECTIVE.SetAlert') return;
      const at = parseIsoDateTime(event.payload.scheduledTime) ?? event.receivedAt;
      const alert = keptFrom(event.payload, at);
      const existing = context.alerts[alert.token];
      if (existing) {
        enqueue.sendTo(existing.ref, { type: 'ALERT.RESCHEDULE', scheduledTime: alert.scheduledTime, scheduledAt: alert.scheduledAt });
        enqueue.assign({ alerts: { ...context.alerts, [alert.token]: { alert, ref: existing.ref } }, due: context.due.filter((t) => t !== alert.token) });
      } else {
        enqueue.assign(({ spawn }) => ({
          alerts: { ...context.alerts, [alert.token]: { alert, ref: spawn('alert', { id: `alert:${alert.token}`, input: childInput(alert) }) } },
        }));
      }
      enqueue.emit({ type: 'ALERTS.PUT', alert });
      enqueue.emit(outbound('Alerts', 'SetAlertSucceeded', { token: alert.token }));
    }),
    setFailed: emit(({ event }) =>
      outbound('Alerts', 'SetAlertFailed', { token: event.type === 'DIRECTIVE.SetAlert' ? event.payload.token : event.type === 'SETALERT.INVALID' ? event.token : '' }),
    ),
    /** §7.4: removed (an unknown token is a success too, SDK). */
    deleteAlert: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'DIRECTIVE.DeleteAlert') return;
      const token = event.payload.token;
      const entry = context.alerts[token];
      if (entry) {
        enqueue.stopChild(entry.ref);
        const alerts = { ...context.alerts };
        delete alerts[token];
        enqueue.assign({ alerts, due: context.due.filter((t) => t !== token) });
        enqueue.emit({ type: 'ALERTS.DELETE', token });
      }
      enqueue.emit(outbound('Alerts', 'DeleteAlertSucceeded', { token }));
    }),
    /**
     * The sounding alert stops (deleted, stopped by the user, snoozed, or by itself): it is forgotten
     * unless it was snoozed, then AlertStopped. The store first, as everywhere here: with the event
     * on disk in the outbox before the alert was deleted, a power cut between the two brought the
     * stopped alert back at the next boot, sounding again (found by the power-loss test).
     */
    endActive: enqueueActions(({ context, event, enqueue }, params: { keep: boolean }) => {
      const token = context.active;
      if (token === undefined) return;
      const entry = context.alerts[token];
      if (!params.keep && entry) {
        enqueue.stopChild(entry.ref);
        const alerts = { ...context.alerts };
        delete alerts[token];
        enqueue.assign({ alerts, due: context.due.filter((t) => t !== token) });
        enqueue.emit({ type: 'ALERTS.DELETE', token });
      } else if (entry && event.type !== 'ALERT.ENDED') {
        enqueue.emit({ type: 'ALERTS.ACTIVE', token, active: false });
      }
      enqueue.emit(outbound('Alerts', 'AlertStopped', { token }));
      enqueue.assign({ active: undefined });
    }),
    silenceActive: enqueueActions(({ context, enqueue }) => {
      const entry = context.active === undefined ? undefined : context.alerts[context.active];
      if (entry) enqueue.sendTo(entry.ref, { type: 'ALERT.SILENCE' });
    }),
    // Only an alert still kept can wait for its turn (a report from one deleted meanwhile is late news).
    queueDue: assign(({ context, event }) =>
      event.type === 'ALERT.BECAME_DUE' && context.alerts[event.token] !== undefined && context.active !== event.token && !context.due.includes(event.token)
        ? { due: [...context.due, event.token] }
        : {},
    ),
    /** §7.6: the next due alert sounds; it takes the Alerts channel. */
    activateNext: enqueueActions(({ context, enqueue, system }) => {
      if (context.active !== undefined) return;
      const [token, ...rest] = context.due.filter((t) => context.alerts[t] !== undefined);
      const entry = token === undefined ? undefined : context.alerts[token];
      if (!token || !entry) return;
      enqueue.assign({ active: token, due: rest });
      enqueue.emit({ type: 'ALERTS.ACTIVE', token, active: true });
      enqueue.sendTo(entry.ref, { type: 'ALERT.ACTIVATE' });
      const focus = system.get('focus');
      const request: FocusEvent = { type: 'FOCUS.ACQUIRE', channel: 'Alerts', owner: ALERTS_ID };
      if (focus) enqueue.sendTo(focus, request);
    }),
    /** Given back only when no other alert waits for its turn: the next one keeps it (no stale NONE for it). */
    releaseAlerts: enqueueActions(({ context, enqueue, system }) => {
      if (context.due.length > 0) return;
      const focus = system.get('focus');
      const request: FocusEvent = { type: 'FOCUS.RELEASE', channel: 'Alerts', owner: ALERTS_ID };
      if (focus) enqueue.sendTo(focus, request);
    }),
    /** §4.2: the channel's news goes to the sounding alert. */
    forwardFocus: enqueueActions(({ context, event, enqueue }) => {
      const entry = context.active === undefined ? undefined : context.alerts[context.active];
      if (entry && event.type === 'FOCUS.CHANGED' && event.channel === 'Alerts') enqueue.sendTo(entry.ref, event);
    }),
    passOn: emit(({ event }) => {
      if (event.type !== 'ALERT.REPORT') throw new Error('passOn takes ALERT.REPORT');
      return event.event;
    }),
  },
}).createMachine({
  id: 'alerts',
  context: { alerts: {}, active: undefined, due: [] },
  initial: 'IDLE',
  on: {
    'ALERTS.LOAD': { actions: 'load' },
    'DIRECTIVE.SetAlert': [
      { guard: 'refused', actions: 'setFailed' },
      // §7.3: a new time for the sounding alert is a snooze: it stops, and waits for its new time.
      { guard: 'isActive', target: '.IDLE', actions: [{ type: 'endActive', params: { keep: true } }, 'setAlert', 'releaseAlerts'] },
      { actions: 'setAlert' },
    ],
    'DIRECTIVE.DeleteAlert': [
      // §7.4: AlertStopped, then DeleteAlertSucceeded.
      { guard: 'isActive', target: '.IDLE', actions: ['silenceActive', { type: 'endActive', params: { keep: false } }, 'deleteAlert', 'releaseAlerts'] },
      { actions: 'deleteAlert' },
    ],
    'SETALERT.INVALID': { actions: 'setFailed' },
    'ALERT.BECAME_DUE': { actions: 'queueDue' },
    'ALERT.REPORT': { actions: 'passOn' },
    'FOCUS.CHANGED': { actions: 'forwardFocus' },
  },
  states: {
    IDLE: {
      always: { guard: 'hasDue', target: 'ALERTING', actions: 'activateNext' },
    },
    ALERTING: {
      on: {
        // §7.5: a local stop — the device stops it by itself, no cloud needed.
        'USER.STOP': { target: 'IDLE', actions: ['silenceActive', { type: 'endActive', params: { keep: false } }, 'releaseAlerts'] },
        'ALERT.ENDED': { guard: 'endedActive', target: 'IDLE', actions: [{ type: 'endActive', params: { keep: false } }, 'releaseAlerts'] },
      },
    },
  },
});

/** §7.2: AlertsState now — every stored alert, and the sounding one. */
export function alertsContext(snapshot: { context: AlertsContext }): ContextMap['Alerts']['AlertsState'] {
  const { alerts, active } = snapshot.context;
  const all = Object.values(alerts)
    .map((e) => e.alert)
    .sort((a, b) => a.scheduledAt - b.scheduledAt || a.token.localeCompare(b.token));
  const activeEntry = active === undefined ? undefined : alerts[active];
  return {
    header: { namespace: 'Alerts', name: 'AlertsState' },
    payload: { allAlerts: all.map(summary), activeAlerts: activeEntry ? [summary(activeEntry.alert)] : [] },
  };
}

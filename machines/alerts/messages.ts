// PROTOCOL.md §7: Alerts 1.0, with the optional 1.1 asset fields and the 1.3 DeleteAlerts.
import * as t from 'io-ts';
import { defineInterface } from '../envelope/define';
import { HttpUrl, IsoDateTime, NonNegativeLong, oneOf } from '../envelope/primitives';

/** §7.3 / §16 #19: the three known alert types. */
export const AlertType = oneOf(['TIMER', 'ALARM', 'REMINDER']);
export type AlertType = t.TypeOf<typeof AlertType>;

/**
 * §7.3 / §16 #3: the docs say an unrecognised type is treated as ALARM (the SDK fails it).
 * We take the safe reading — an alarm that rings rather than one that is lost — so SetAlert
 * accepts any type string and `alertTypeOf` maps an unknown one to ALARM.
 */
export const alertTypeOf = (type: string): AlertType => (AlertType.is(type) ? type : 'ALARM');

/** §7.3 (1.1) assets: custom sounds; inconsistent assets are ignored by the machine, not rejected. */
export const AlertAsset = t.type({ assetId: t.string, url: HttpUrl }, 'AlertAsset');

export const SetAlert = t.intersection(
  [
    t.type({ token: t.string, type: t.string, scheduledTime: IsoDateTime }),
    t.partial({
      assets: t.array(AlertAsset),
      assetPlayOrder: t.array(t.string),
      backgroundAlertAsset: t.string,
      loopCount: NonNegativeLong,
      loopPauseInMilliSeconds: NonNegativeLong,
    }),
  ],
  'SetAlertPayload',
);
export type SetAlert = t.TypeOf<typeof SetAlert>;

export const DeleteAlert = t.type({ token: t.string }, 'DeleteAlertPayload');
/** §7.7 (1.3) */
export const DeleteAlerts = t.type({ tokens: t.array(t.string) }, 'DeleteAlertsPayload');

/** §7.5: every Alerts event carries only the token. */
export const AlertEvent = t.type({ token: t.string }, 'AlertEventPayload');
export const AlertsEvent = t.type({ tokens: t.array(t.string) }, 'AlertsEventPayload');

/** §7.2 */
export const AlertSummary = t.type({ token: t.string, type: AlertType, scheduledTime: IsoDateTime }, 'Alert');
export type AlertSummary = t.TypeOf<typeof AlertSummary>;
export const AlertsState = t.type({ allAlerts: t.array(AlertSummary), activeAlerts: t.array(AlertSummary) }, 'AlertsStatePayload');
export type AlertsState = t.TypeOf<typeof AlertsState>;

export const Alerts = defineInterface({
  namespace: 'Alerts',
  version: '1.1',
  directives: { SetAlert, DeleteAlert, DeleteAlerts },
  events: {
    SetAlertSucceeded: AlertEvent,
    SetAlertFailed: AlertEvent,
    DeleteAlertSucceeded: AlertEvent,
    DeleteAlertFailed: AlertEvent,
    AlertStarted: AlertEvent,
    AlertStopped: AlertEvent,
    AlertEnteredForeground: AlertEvent,
    AlertEnteredBackground: AlertEvent,
    DeleteAlertsSucceeded: AlertsEvent,
    DeleteAlertsFailed: AlertsEvent,
  },
  context: { AlertsState },
  eventsWithContext: [],
  eventsWithDialogRequestId: [],
});

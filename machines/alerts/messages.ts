// PROTOCOL.md §7: Alerts 1.0, with the optional 1.1 asset fields (§3: the version covered).
import * as t from 'io-ts';
import { defineInterface } from '../envelope/define';
import { HttpUrl, IsoDateTime, NonNegativeLong, oneOf } from '../envelope/primitives';

/** §7.3 / §16 #19: the three known alert types. */
export const AlertType = oneOf(['TIMER', 'ALARM', 'REMINDER']);
export type AlertType = t.TypeOf<typeof AlertType>;

/** §7.3 (1.1) assets: custom sounds. */
export const AlertAsset = t.type({ assetId: t.string, url: HttpUrl }, 'AlertAsset');
const AssetList = t.array(AlertAsset);
const AssetOrder = t.array(t.string);

export const SetAlert = t.intersection(
  [
    t.type({ token: t.string, type: AlertType, scheduledTime: IsoDateTime }),
    t.partial({
      assets: AssetList,
      assetPlayOrder: AssetOrder,
      backgroundAlertAsset: t.string,
      loopCount: NonNegativeLong,
      loopPauseInMilliSeconds: NonNegativeLong,
    }),
  ],
  'SetAlertPayload',
);
export type SetAlert = t.TypeOf<typeof SetAlert>;

/**
 * §7.3: the asset fields are usable only when they are all well formed and consistent (assets
 * and an order both present, no duplicate assetId, the order and the background asset naming
 * known assets); otherwise all of them are ignored and the built-in sounds play.
 */
export function assetsUsable(p: Record<string, unknown>): boolean {
  const { assets, assetPlayOrder, backgroundAlertAsset } = p;
  if (assets === undefined && assetPlayOrder === undefined) return backgroundAlertAsset === undefined;
  if (!AssetList.is(assets) || !AssetOrder.is(assetPlayOrder)) return false;
  const ids = new Set(assets.map((a) => a.assetId));
  if (ids.size !== assets.length) return false;
  if (!assetPlayOrder.every((id) => ids.has(id))) return false;
  return backgroundAlertAsset === undefined || (typeof backgroundAlertAsset === 'string' && ids.has(backgroundAlertAsset));
}

/**
 * What the runtime makes of a SetAlert before validating it, so an alarm is never lost to a
 * detail: an unknown type is an ALARM (§7.3, the docs' reading of §16 #3 — the SDK fails it),
 * unusable asset fields are dropped (§7.3), and a malformed loop setting falls back to its default.
 */
export function lenientSetAlert(p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...p };
  if (typeof out.type === 'string' && !AlertType.is(out.type)) out.type = 'ALARM';
  if (!assetsUsable(out)) {
    delete out.assets;
    delete out.assetPlayOrder;
    delete out.backgroundAlertAsset;
  }
  for (const key of ['loopCount', 'loopPauseInMilliSeconds']) if (key in out && !NonNegativeLong.is(out[key])) delete out[key];
  return out;
}

export const DeleteAlert = t.type({ token: t.string }, 'DeleteAlertPayload');

/** §7.5: every Alerts event carries only the token. */
export const AlertEvent = t.type({ token: t.string }, 'AlertEventPayload');

/** §7.2 */
export const AlertSummary = t.type({ token: t.string, type: AlertType, scheduledTime: IsoDateTime }, 'Alert');
export type AlertSummary = t.TypeOf<typeof AlertSummary>;
export const AlertsState = t.type({ allAlerts: t.array(AlertSummary), activeAlerts: t.array(AlertSummary) }, 'AlertsStatePayload');
export type AlertsState = t.TypeOf<typeof AlertsState>;

export const Alerts = defineInterface({
  namespace: 'Alerts',
  version: '1.1',
  directives: { SetAlert, DeleteAlert },
  events: {
    SetAlertSucceeded: AlertEvent,
    SetAlertFailed: AlertEvent,
    DeleteAlertSucceeded: AlertEvent,
    DeleteAlertFailed: AlertEvent,
    AlertStarted: AlertEvent,
    AlertStopped: AlertEvent,
    AlertEnteredForeground: AlertEvent,
    AlertEnteredBackground: AlertEvent,
  },
  context: { AlertsState },
  eventsWithContext: [],
  eventsWithDialogRequestId: [],
  lenient: { SetAlert: lenientSetAlert },
});

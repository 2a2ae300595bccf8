// PROTOCOL.md §1.5.4: what the device does with the answer to an event. Pure: the transport
// reports the status, this says what happens next.

export type EventResponseAction =
  /** 200/204 (and 202 for the post-connect events): done. */
  | 'done'
  /** 403: ask authorization for a fresh token and retry once. */
  | 'refresh-token-and-retry'
  /** 429 / 503: back off before sending again (the event keeps its place). */
  | 'back-off-and-retry'
  /** 500 and anything unexpected: retry a bounded number of times. */
  | 'retry-bounded'
  /** 400: malformed; report it, never resend it unchanged. */
  | 'report-and-drop';

export function eventResponseAction(status: number): EventResponseAction {
  if (status >= 200 && status < 300) return 'done';
  if (status === 400) return 'report-and-drop';
  if (status === 403) return 'refresh-token-and-retry';
  if (status === 429 || status === 503) return 'back-off-and-retry';
  return 'retry-bounded'; // 500 and §1.5.4 "other": treated like 500
}

/** §1.5.4 "500 → bounded retry": attempts in all, the first included. */
export const MAX_EVENT_ATTEMPTS = 3;

/**
 * Events that must reach AVS even across a lost connection (§1.7, §7.5 "certified sender"): they
 * wait in the outbox and go out in order once connected again. The others are dropped when the
 * connection is lost, as the SDK does (NOT_CONNECTED).
 */
const MUST_REACH: ReadonlySet<string> = new Set([
  // §7.5
  'Alerts.SetAlertSucceeded',
  'Alerts.SetAlertFailed',
  'Alerts.DeleteAlertSucceeded',
  'Alerts.DeleteAlertFailed',
  'Alerts.AlertStarted',
  'Alerts.AlertStopped',
  // §8.6: the cloud's view of playback (queue, progress, what played) depends on every one of them
  'AudioPlayer.PlaybackStarted',
  'AudioPlayer.PlaybackNearlyFinished',
  'AudioPlayer.ProgressReportDelayElapsed',
  'AudioPlayer.ProgressReportIntervalElapsed',
  'AudioPlayer.PlaybackStutterStarted',
  'AudioPlayer.PlaybackStutterFinished',
  'AudioPlayer.PlaybackFinished',
  'AudioPlayer.PlaybackFailed',
  'AudioPlayer.PlaybackStopped',
  'AudioPlayer.PlaybackPaused',
  'AudioPlayer.PlaybackResumed',
  'AudioPlayer.PlaybackQueueCleared',
  'AudioPlayer.StreamMetadataExtracted',
  // §10.3 / §11.1 / §11.3: state changes AVS must learn of (SoftwareInfo is retried until accepted)
  'Speaker.VolumeChanged',
  'Speaker.MuteChanged',
  'Settings.SettingsUpdated',
  'System.SoftwareInfo',
]);

export const mustReachAvs = (namespace: string, name: string): boolean => MUST_REACH.has(`${namespace}.${name}`);

/**
 * State reports (§10.3): each tells AVS the state now, so only the newest one matters. A newer one
 * replaces one still waiting (a burst of volume changes sends the last, not a queue of them), and
 * they are kept in memory only: after a restart SynchronizeState (§1.6 step 5) carries the state
 * in its context before any other event.
 */
const STATE_REPORTS: ReadonlySet<string> = new Set(['Speaker.VolumeChanged', 'Speaker.MuteChanged']);

export const isStateReport = (namespace: string, name: string): boolean => STATE_REPORTS.has(`${namespace}.${name}`);

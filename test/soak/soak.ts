// The fault-injection soak (issue 12): the whole device — createDevice with its SQLite database,
// Login with Amazon tokens, a file microphone and a recording output — against the simulator over
// real HTTP/2 + TLS on 127.0.0.1, driven by a seeded random mix of dialogs, music, alerts and
// volume changes, with faults injected between and during them (PROTOCOL.md §1.5.4 statuses,
// §1.9 pings, §1.10 GOAWAY/resets, broken multipart, malformed and unknown directives). Afterwards
// it checks, from the simulator's records and the device's own reports, that every event that
// had to reach AVS (§1.7, §7.5) arrived once and in order, that every alert AVS was told was set
// went off once at its time, that nothing crashed, that memory stayed flat and that the
// connection came back after every fault within the backoff bound (§1.8).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { RecordingOutput } from '../../drivers/audio-output/recording-output';
import { FileMicrophone } from '../../drivers/microphone/file-microphone';
import { isStateReport, mustReachAvs } from '../../machines/connection/policy';
import { createLogger } from '../../services/log/logger';
import { createDevice, type Device } from '../../runtime/device/device';
import { parseScenario, startSimulator, type Simulator } from '../avs-cloud';
import { prng } from '../support/prng';

const WAV = join(__dirname, '..', 'fixtures', 'audio', 'what-time-is-it.wav');

export const FAULT_KINDS = [
  'drop',
  'goaway',
  'resetDownchannel',
  'endDownchannel',
  'status403',
  'status429',
  'status500',
  'status503',
  'downchannel503',
  'slowAnswer',
  'truncatedAnswer',
  'truncatedPush',
  'corruptFraming',
  'corruptJson',
  'malformedDirective',
  'unknownDirective',
  'pingTimeout',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults after which the device must connect again. */
const BREAKS_CONNECTION: ReadonlySet<FaultKind> = new Set([
  'drop',
  'goaway',
  'resetDownchannel',
  'endDownchannel',
  'downchannel503',
  'pingTimeout',
  // A downchannel whose multipart body breaks cannot be read on: the device opens a new one.
  'truncatedPush',
  'corruptFraming',
]);

export interface SoakOptions {
  readonly turns: number;
  readonly seed: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface SoakResult {
  readonly turns: number;
  readonly faults: number;
  readonly faultsByKind: Record<string, number>;
  readonly actions: Record<string, number>;
  readonly eventsChecked: number;
  /** State reports (VolumeChanged, MuteChanged) a newer one replaced before they went. */
  readonly superseded: number;
  readonly alertsChecked: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly crashes: number;
  /** Events AVS accepted twice because the answer to the first never reached the device (the request broke off). */
  readonly resentUnanswered: number;
  readonly outOfOrder: number;
  readonly alertsLate: number;
  readonly maxAlertLatenessMs: number;
  readonly maxRecoveryMs: number;
  readonly recoveryBoundMs: number;
  readonly recoveriesOverBound: number;
  readonly maxAttemptsIn10Min: number;
  readonly heapGrowthMb: number;
  readonly heapBoundMb: number;
  readonly tokenLeaks: number;
  /** Everything that went wrong, one line each. */
  readonly problems: string[];
  readonly durationMs: number;
}


const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
const heapMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1048576;
};

const SCENARIO = parseScenario({
  answers: {
    answer: {
      directives: [{ directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak' }, payload: { url: 'cid:tts', format: 'AUDIO_MPEG', token: 'tts-$uuid' } } }],
      attachments: { tts: { silenceMs: 400 } },
    },
  },
  rules: [{ on: 'SpeechRecognizer.Recognize', answer: 'answer' }],
});

/** The cap of one backoff delay (§1.8 table; short, so a soak spends its time on turns). */
const MAX_RETRY_DELAY_MS = 4000;
/** Beyond the backoff delays: TLS + HTTP/2 + downchannel + SynchronizeState, on a loaded machine. */
const CONNECT_SLACK_MS = 10_000;
/**
 * Connection attempts (downchannel requests) in the last 10 minutes beyond which the soak injects
 * no more connection-breaking faults: the device allows itself 50 (§1.8), and a fault can cost a
 * few (a 503, a 403 and its refresh), so its recovery stays prompt instead of waiting out the window.
 */
const ATTEMPT_BUDGET = 36;

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const random = prng(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));
  const problems: string[] = [];
  let crashes = 0;
  const onCrash = (kind: string) => (error: unknown) => {
    crashes++;
    problems.push(`${kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  };
  const onException = onCrash('uncaught exception');
  const onRejection = onCrash('unhandled rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);

  const dir = mkdtempSync(join(tmpdir(), 'avs-soak-'));
  const secrets: string[] = [];
  const logLines: string[] = [];
  const leaked = new Set<string>();
  let sim: Simulator | undefined;
  let device: Device | undefined;
  const faultsByKind: Record<string, number> = {};
  const actions: Record<string, number> = {};
  try {
    sim = await startSimulator({ scenario: SCENARIO, stopCapture: { idleMs: 200, afterAudioMs: 600 }, lwa: { rotateRefreshTokens: true } });
    const s = sim;
    // A test output keeps every playback it was given (by contract); the soak empties it as it
    // goes, so the heap figure is the device's.
    const output = new RecordingOutput();
    // Every log line is checked for the tokens known so far as it is written; the last ones are
    // kept for a second look once every token is known.
    const destination = new Writable({
      write(chunk: Buffer, _e, done) {
        const line = chunk.toString();
        for (const t of secrets) if (line.includes(t)) leaked.add(t);
        logLines.push(line);
        if (logLines.length > 1000) logLines.splice(0, 500);
        done();
      },
    });
    const d = createDevice({
      endpoint: s.url,
      ca: s.ca,
      database: join(dir, 'device.db'),
      authorization: { clientId: 'soak-client', productId: 'soak', deviceSerialNumber: `soak-${options.seed}`, url: s.url },
      logger: createLogger({ level: 'debug', destination }),
      seed: options.seed,
      pingIdleMs: 1500,
      pingTimeoutMs: 1000,
      connectTimeoutMs: 5000,
      maxRetryDelayMs: MAX_RETRY_DELAY_MS,
      inactivityReportMs: 10 * 365 * 24 * 3600_000,
      drivers: { microphone: new FileMicrophone(WAV, { then: 'silence' }), output },
    });
    device = d;
    const auth = d.authorization;
    if (!auth) throw new Error('the device has no authorization');
    auth.actor.on('TOKENS.CHANGED', (e) => secrets.push(e.accessToken, ...(e.refreshToken ? [e.refreshToken] : [])));
    d.root.on('DEVICE.MACHINE_FAILED', (e) => {
      crashes++;
      problems.push(`machine ${e.machine} failed: ${e.error}`);
    });
    const pair = s.tokens.issue();
    secrets.push(pair.accessToken, pair.refreshToken);
    auth.setTokens({ accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresIn: 3600 });

    // What the device queued that must reach AVS, in order; what the sender says became of it.
    const mustReach: { messageId: string; name: string }[] = [];
    d.events$.subscribe((e) => {
      const header = (e.message as { event: { header: { namespace: string; name: string; messageId: string } } }).event.header;
      if (mustReachAvs(header.namespace, header.name)) {
        if (e.queued) mustReach.push({ messageId: header.messageId, name: e.name });
        else problems.push(`${e.name} ${header.messageId} could not be queued`);
      }
    });
    const sentAt = new Map<string, number>();
    // State reports a newer one replaced before they went (§10.3): by design, not lost.
    const superseded = new Set<string>();
    d.reports$.subscribe((r) => {
      if (r.kind === 'superseded') superseded.add((r.entry.message as { event: { header: { messageId: string } } }).event.header.messageId);
      if (r.kind === 'sent') {
        const id = (r.entry.message as { event: { header: { messageId: string } } }).event.header.messageId;
        sentAt.set(id, (sentAt.get(id) ?? 0) + 1);
      }
      if (r.kind === 'refused' && mustReachAvs(...(r.entry.name.split('.') as [string, string]))) problems.push(`${r.entry.name} refused: ${r.reason}`);
      if (r.kind === 'outbox-full') problems.push(`outbox full: ${r.name} not queued`);
    });
    // When each alert's sound started, on the device.
    const alertStarts = new Map<string, number[]>();
    d.events$.subscribe((e) => {
      if (e.name !== 'Alerts.AlertStarted') return;
      const token = String((e.message as { event: { payload: { token: string } } }).event.payload.token);
      alertStarts.set(token, [...(alertStarts.get(token) ?? []), Date.now()]);
    });
    // A ringing alert is stopped by the user after a moment (or ends by itself after its one loop).
    const alertEnds: number[] = [];
    let ringing: string | undefined;
    d.actors.alerts.subscribe((snap) => {
      const token = snap.context.active;
      if (token === ringing) return;
      if (ringing !== undefined) alertEnds.push(Date.now());
      ringing = token;
      if (token === undefined) return;
      setTimeout(() => {
        if (d.actors.alerts.getSnapshot().context.active === token) d.stopAlert();
      }, between(50, 400));
    });

    const connected = () => d.actors.connection.getSnapshot().matches({ ONLINE: 'CONNECTED' });
    const waitUntil = async (check: () => boolean, timeoutMs: number): Promise<boolean> => {
      const end = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > end) return false;
        await sleep(20);
      }
      return true;
    };

    // What AVS accepted (2xx) by messageId, the tokens it heard SetAlertSucceeded for, and when
    // each connection attempt (downchannel request) came: gathered from the simulator's records
    // every few turns, which it then forgets, so a long soak measures the device's memory.
    const accepted = new Map<string, { seq: number; aborted: boolean }[]>();
    const succeeded = new Set<string>();
    const opens: number[] = [];
    const harvest = () => {
      for (const r of s.records) {
        if (r.path.endsWith('/directives')) opens.push(r.at);
        if (r.kind !== 'event' || r.status < 200 || r.status >= 300) continue;
        const id = (r.event as { event?: { header?: { messageId?: string } } } | undefined)?.event?.header?.messageId;
        if (id) accepted.set(id, [...(accepted.get(id) ?? []), { seq: r.seq, aborted: r.aborted === true }]);
      }
      for (const e of s.receivedEvents()) if (e.name === 'Alerts.SetAlertSucceeded') succeeded.add(String(e.document.event.payload.token));
      s.forget();
      output.recordings.splice(0);
    };

    await d.whenConnected();
    const alerts: { token: string; at: number }[] = [];
    let n = 0;
    const recoveries: { ms: number; boundMs: number; kind: FaultKind }[] = [];
    // Each backoff delay the connection chose (§1.8), as it chose it.
    const retryWaits: { at: number; delayMs: number }[] = [];
    let waiting = false;
    d.actors.connection.subscribe((snap) => {
      const now = snap.matches('WAITING_TO_RETRY');
      if (now && !waiting) retryWaits.push({ at: Date.now(), delayMs: snap.context.retryDelayMs });
      waiting = now;
    });
    let heapAtWarm = 0;
    const idleish = () => ['IDLE', 'ALERTING'].includes(String(d.actors.attention.getSnapshot().value));

    for (let turn = 1; turn <= options.turns; turn++) {
      if (turn === Math.max(2, Math.round(options.turns / 10))) heapAtWarm = heapMb();
      const roll = random();
      const kind = roll < 0.3 ? 'dialog' : roll < 0.45 ? 'music' : roll < 0.57 ? 'alert' : roll < 0.7 ? 'volume' : 'fault';
      actions[kind] = (actions[kind] ?? 0) + 1;
      switch (kind) {
        case 'dialog': {
          d.tap();
          // A fault may strike during it: then it ends early (§1.5.4), never hangs (THINKING times out).
          if (random() < 0.25) {
            await sleep(between(0, 300));
            await inject(pickFault());
          }
          await sleep(50);
          if (!(await waitUntil(idleish, 20_000))) problems.push(`turn ${turn}: the dialog did not end (attention ${JSON.stringify(d.actors.attention.getSnapshot().value)})`);
          break;
        }
        case 'music': {
          const ms = between(300, 2500);
          const behavior = pick(['REPLACE_ALL', 'ENQUEUE', 'REPLACE_ENQUEUED']);
          s.pushDirective({
            directive: {
              header: { namespace: 'AudioPlayer', name: 'Play', messageId: `play-${options.seed}-${++n}`, dialogRequestId: undefined },
              payload: { playBehavior: behavior, audioItem: { audioItemId: `song-${n}`, stream: { url: `${s.url}/media/silence-${ms}ms.mp3`, offsetInMilliseconds: 0, token: `song-${options.seed}-${n}` } } },
            },
          });
          if (random() < 0.2) {
            await sleep(between(50, 400));
            s.pushDirective({ directive: { header: { namespace: 'AudioPlayer', name: random() < 0.5 ? 'Stop' : 'ClearQueue', messageId: `stop-${options.seed}-${++n}` }, payload: { clearBehavior: 'CLEAR_ALL' } } });
          }
          break;
        }
        case 'alert': {
          const token = `alert-${options.seed}-${++n}`;
          // §7.3 times are whole seconds.
          const at = Math.ceil((Date.now() + between(1500, 5000)) / 1000) * 1000;
          alerts.push({ token, at });
          s.pushDirective({
            directive: {
              header: { namespace: 'Alerts', name: 'SetAlert', messageId: `set-${token}` },
              payload: { token, type: pick(['TIMER', 'ALARM', 'REMINDER']), scheduledTime: iso(at), ...(random() < 0.5 ? { loopCount: 1 } : {}) },
            },
          });
          break;
        }
        case 'volume': {
          const r = random();
          if (r < 0.4) d.setVolume(between(0, 100));
          else if (r < 0.7) d.adjustVolume(between(-20, 20));
          else s.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: `vol-${options.seed}-${++n}` }, payload: { volume: between(0, 100) } } });
          break;
        }
        case 'fault':
          await inject(pickFault());
          break;
      }
      await sleep(between(0, 120));
      if (turn % 25 === 0) harvest();
      if (turn % 10 === 0) log(`turn ${turn}/${options.turns}: ${Object.values(faultsByKind).reduce((a, b) => a + b, 0)} faults, ${mustReach.length} events, ${alerts.length} alerts`);
    }

    // Connection-breaking faults are paced below the device's own bound of 50 attempts in 10
    // minutes (§1.8), so every recovery can be prompt; the others come as often as they are drawn.
    function pickFault(): FaultKind {
      const since = Date.now() - 600_000;
      const attempts = [...opens, ...s.records.filter((r) => r.path.endsWith('/directives')).map((r) => r.at)].filter((at) => at > since).length + 1;
      const kinds = attempts < ATTEMPT_BUDGET ? FAULT_KINDS : FAULT_KINDS.filter((k) => !BREAKS_CONNECTION.has(k));
      return pick(kinds);
    }

    async function inject(kind: FaultKind): Promise<void> {
      faultsByKind[kind] = (faultsByKind[kind] ?? 0) + 1;
      const f = s.faults;
      const at = Date.now();
      switch (kind) {
        case 'drop':
          f.dropConnections();
          break;
        case 'goaway':
          f.goaway();
          break;
        case 'resetDownchannel':
          f.resetDownchannel();
          break;
        case 'endDownchannel':
          f.endDownchannel();
          break;
        case 'status403':
          f.failNext(403, { target: 'event' });
          break;
        case 'status429':
          f.failNext(429, { target: 'event' });
          break;
        case 'status500':
          f.failNext(500, { target: 'event' });
          break;
        case 'status503':
          f.failNext(503, { target: 'event' });
          break;
        case 'downchannel503':
          f.failNext(503, { target: 'downchannel' });
          f.resetDownchannel();
          break;
        case 'slowAnswer':
          f.delayNext(between(500, 2500), { target: 'event' });
          break;
        case 'truncatedAnswer':
          f.truncateNext('event');
          break;
        case 'truncatedPush':
          f.truncateNext('downchannel');
          s.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: `cut-${options.seed}-${++n}` }, payload: { volume: between(0, 100) } } });
          break;
        case 'corruptFraming':
          f.corruptNext('downchannel', 'framing');
          s.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'AdjustVolume', messageId: `bad-${options.seed}-${++n}` }, payload: { volume: 1 } } });
          break;
        case 'corruptJson':
          f.corruptNext('downchannel', 'json');
          s.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'AdjustVolume', messageId: `bad-${options.seed}-${++n}` }, payload: { volume: -1 } } });
          break;
        case 'malformedDirective':
          s.pushDirective(pick(['{"directive":{"header":{"namespace":"Speaker"', '{"directive":{"header":{"namespace":"Speaker","name":"SetVolume","messageId":"x"},"payload":{"volume":"loud"}}}', 'not json at all']));
          break;
        case 'unknownDirective':
          s.pushDirective({ directive: { header: { namespace: 'Toaster', name: 'MakeToast', messageId: `toast-${options.seed}-${++n}` }, payload: { shade: 3 } } });
          break;
        case 'pingTimeout':
          f.stopPings();
          // Until the device notices the missing answer (§1.9) and leaves the dead session.
          await waitUntil(() => !connected(), 8000);
          f.resumePings();
          break;
      }
      if (BREAKS_CONNECTION.has(kind)) {
        await sleep(30);
        if (await waitUntil(connected, 60_000)) {
          // The bound: the backoff delays the device chose meanwhile (§1.8), plus time to connect.
          const waited = retryWaits.filter((w) => w.at >= at).reduce((sum, w) => sum + w.delayMs, 0);
          recoveries.push({ ms: Date.now() - at, boundMs: waited + CONNECT_SLACK_MS, kind });
        } else problems.push(`no connection again within 60 s after ${kind}`);
      }
    }

    // Quiet now: no faults armed, every alert's time past and its ringing over, the outbox empty.
    sim.faults.clear();
    const lastAlert = Math.max(0, ...alerts.map((a) => a.at));
    await waitUntil(() => Date.now() > lastAlert + 1500 && !d.actors.alerts.getSnapshot().matches('ALERTING'), Math.max(0, lastAlert - Date.now()) + 20_000);
    if (!(await waitUntil(connected, 30_000))) problems.push('not connected at the end');
    await waitUntil(() => mustReach.every((m) => (sentAt.get(m.messageId) ?? 0) > 0), 30_000);
    await sleep(300);
    harvest();
    const heapAtEnd = heapMb();

    // ---- checks ----
    // AVS's side: each event accepted (2xx) by messageId, in order of acceptance.
    let lost = 0;
    let duplicated = 0;
    let resentUnanswered = 0;
    let outOfOrder = 0;
    let lastSeq = 0;
    let supersededCount = 0;
    for (const m of mustReach) {
      const got = accepted.get(m.messageId) ?? [];
      if (superseded.has(m.messageId)) {
        supersededCount++;
        continue;
      }
      if (got.length === 0) {
        lost++;
        problems.push(`lost: ${m.name} ${m.messageId}`);
        continue;
      }
      // The device learnt of its arrival once (the sender's 'sent'); AVS seeing it again is a
      // duplicate unless the first answer broke off before it reached the device.
      const acknowledged = sentAt.get(m.messageId) ?? 0;
      if (acknowledged > 1) {
        duplicated++;
        problems.push(`duplicated: ${m.name} ${m.messageId} sent ${acknowledged} times`);
      } else if (got.length > 1) {
        if (got.slice(0, -1).every((g) => g.aborted)) resentUnanswered++;
        else {
          duplicated++;
          problems.push(`duplicated: ${m.name} ${m.messageId} accepted ${got.length} times`);
        }
      }
      const first = Math.min(...got.map((g) => g.seq));
      // A state report is the state at its time and may wait out its interval behind later events (§10.3).
      if (isStateReport(...(m.name.split('.') as [string, string]))) continue;
      if (first < lastSeq) {
        outOfOrder++;
        problems.push(`out of order: ${m.name} ${m.messageId}`);
      }
      lastSeq = Math.max(lastSeq, first);
    }
    // Alerts: every one AVS heard SetAlertSucceeded for went off once, at its time.
    let alertsChecked = 0;
    let alertsLate = 0;
    let maxLateness = 0;
    for (const a of alerts) {
      if (!succeeded.has(a.token)) continue;
      alertsChecked++;
      const starts = alertStarts.get(a.token) ?? [];
      if (starts.length !== 1) {
        if (starts.length === 0) lost++;
        else duplicated++;
        problems.push(`alert ${a.token} went off ${starts.length} times`);
        continue;
      }
      const start = starts[0] as number;
      // One alert sounds at a time (§7.6): one due while another rang starts when that one ends.
      const late = start - Math.max(a.at, ...alertEnds.filter((t) => t >= a.at && t <= start));
      if (start < a.at - 50) problems.push(`alert ${a.token} went off ${a.at - start} ms early`);
      maxLateness = Math.max(maxLateness, late);
      if (late > 3000) {
        alertsLate++;
        problems.push(`alert ${a.token} went off ${late} ms late`);
      }
    }
    // The connection: recovered within the bound; at most 50 attempts in any 10 minutes (§1.8).
    const over = recoveries.filter((r) => r.ms > r.boundMs);
    for (const r of over) problems.push(`recovery after ${r.kind} took ${r.ms} ms, over its bound of ${r.boundMs} ms`);
    const recoveriesOverBound = over.length;
    const recoveryBoundMs = Math.max(0, ...recoveries.map((r) => r.boundMs));
    let maxAttempts = 0;
    for (let i = 0; i < opens.length; i++) maxAttempts = Math.max(maxAttempts, opens.filter((t) => t >= (opens[i] as number) && t < (opens[i] as number) + 600_000).length);
    if (maxAttempts > 50) problems.push(`${maxAttempts} connection attempts within 10 minutes`);
    // Memory flat: what the heap holds after a GC, from the warm-up to the end.
    const heapGrowthMb = heapAtWarm > 0 ? heapAtEnd - heapAtWarm : 0;
    const heapBoundMb = 16;
    if (heapGrowthMb > heapBoundMb) problems.push(`heap grew ${heapGrowthMb.toFixed(1)} MB`);
    // No token in any log line.
    const text = logLines.join('');
    for (const t of secrets) if (text.includes(t)) leaked.add(t);
    const tokenLeaks = leaked.size;
    if (tokenLeaks > 0) problems.push(`${tokenLeaks} tokens in the log`);

    return {
      turns: options.turns,
      faults: Object.values(faultsByKind).reduce((a, b) => a + b, 0),
      faultsByKind,
      actions,
      eventsChecked: mustReach.length - supersededCount,
      superseded: supersededCount,
      alertsChecked,
      lost,
      duplicated,
      crashes,
      resentUnanswered,
      outOfOrder,
      alertsLate,
      maxAlertLatenessMs: maxLateness,
      maxRecoveryMs: Math.max(0, ...recoveries.map((r) => r.ms)),
      recoveryBoundMs,
      recoveriesOverBound,
      maxAttemptsIn10Min: maxAttempts,
      heapGrowthMb: Math.round(heapGrowthMb * 10) / 10,
      heapBoundMb,
      tokenLeaks,
      problems,
      durationMs: Date.now() - started,
    };
  } finally {
    await device?.stop().catch((e: unknown) => problems.push(`stop: ${String(e)}`));
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  }
}

/** The last line `npm run soak` prints (issue 12's format). */
export function summaryLine(r: SoakResult): string {
  return `soak: ${r.turns} turns, ${r.faults} faults, ${r.eventsChecked} events checked, ${r.alertsChecked} alerts checked, lost ${r.lost}, duplicated ${r.duplicated}, crashes ${r.crashes}`;
}

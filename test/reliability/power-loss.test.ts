// Issue 12, power loss: the device (createDevice with its SQLite database) runs as a child process
// (test/fixtures/scripts/power-loss-device.ts) against the simulator, under a random workload —
// alerts set and deleted from the app, dialogs, volume changes — and is SIGKILLed at random moments,
// 100 times, from a fixed seed: inside a write to the database (before it, after it, or while
// SQLite writes and syncs it), at a random time, in the middle of a dialog, while an alert rings.
//
// After every kill the database must open (integrity_check "ok"), and:
//  - every alert AVS heard SetAlertSucceeded for (or whose SetAlertSucceeded was queued) is still
//    stored, unless its end was queued or delivered (AlertStopped, DeleteAlertSucceeded, §7.5) —
//    and no alert whose end was queued is stored still (it would ring again);
//  - the next start reloads exactly the stored alerts, each once (AlertsState, §7.2).
// Over the whole run, for the events that must reach AVS (§1.7, §7.5):
//  - every one the device accepted (queued: reported by the child, or found in the outbox after a
//    kill) is delivered — answered 2xx by the simulator — by the end;
//  - none is delivered twice, except one that was still in the outbox after a kill although the
//    simulator had already answered it (the answer was lost with the process: at-least-once, the
//    same messageId, README "At-least-once"); those are counted;
//  - no alert's SetAlertSucceeded, DeleteAlertSucceeded or AlertStopped goes under two messageIds.
// The figures go to coverage/reliability/power-loss.json for the README.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openDatabase } from '../../services/store/database';
import { parseScenario, startSimulator, type Simulator } from '../avs-cloud';
import type { RequestRecord } from '../avs-cloud/recorder';
import { prng } from '../support/prng';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'test', 'fixtures', 'scripts', 'power-loss-device.ts');
const WAV = join(ROOT, 'test', 'fixtures', 'audio', 'what-time-is-it.wav');
const KILLS = 100;
const SEED = 20_260_112;


const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+0000');
/** Unref'd: a wait that lost its race must not hold the test run open. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Dialogs: a question answered by speech, or a timer set by voice (a SetAlert in the answer, §7.3). */
const SCENARIO = parseScenario({
  answers: {
    speak: {
      directives: [{ directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak' }, payload: { url: 'cid:tts', format: 'AUDIO_MPEG', token: 'tts-$uuid' } } }],
      attachments: { tts: { silenceMs: 300 } },
    },
    timer: {
      directives: [
        { directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak' }, payload: { url: 'cid:tts', format: 'AUDIO_MPEG', token: 'tts-$uuid' } } },
        { directive: { header: { namespace: 'Alerts', name: 'SetAlert' }, payload: { token: 'dialog-$uuid', type: 'TIMER', scheduledTime: '$now+2s', loopCount: 1 } } },
      ],
      attachments: { tts: { silenceMs: 200 } },
    },
  },
  rules: [
    { on: 'SpeechRecognizer.Recognize', tag: 'timer', answer: 'timer' },
    { on: 'SpeechRecognizer.Recognize', answer: 'speak' },
  ],
});

/** Events whose outbox write a kill may aim at. */
const TARGET_EVENTS = ['Alerts.SetAlertSucceeded', 'Alerts.AlertStarted', 'Alerts.AlertStopped', 'Alerts.DeleteAlertSucceeded', 'Speaker.VolumeChanged'];

type KillKind = 'write-before' | 'write-after' | 'write-during' | 'timed' | 'mid-dialog' | 'alert-ringing';
const KINDS: readonly KillKind[] = ['write-before', 'write-after', 'write-during', 'timed', 'mid-dialog', 'alert-ringing'];

interface Accepted {
  readonly messageId: string;
  readonly name: string;
  readonly token?: string;
}

interface Snapshot {
  /** After which kill (1…), or KILLS + 1 for the final clean stop. */
  readonly kill: number;
  /** When it was taken (the child was dead by then). */
  readonly at: number;
  readonly integrity: string;
  readonly outbox: Accepted[];
  readonly alerts: string[];
}

/** One life of the device. */
interface Life {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<void>;
  readonly connected: Promise<boolean>;
  readonly boot: Promise<string[] | undefined>;
  readonly drained: Promise<void>;
  send(command: string): void;
  alive(): boolean;
}

let sim: Simulator;
let dir: string;
let database: string;
const accepted = new Map<string, Accepted>();
const snapshots: Snapshot[] = [];
const problems: string[] = [];
const killsByKind: Record<string, number> = {};
let killsAtBoot = 0;
/** Write kills that struck (the others found no such write before the workload ended: killed from outside). */
let killsInsideWrites = 0;
let bootsChecked = 0;
let counter = 0;

function start(env: Record<string, string> = {}, db = database): Life {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, sim.url, sim.caPath ?? '', sim.defaultToken, db, WAV], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let alive = true;
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      alive = false;
      if (signal !== 'SIGKILL' && code !== 0) problems.push(`the device exited with ${signal ?? code}: ${stderr.slice(-1500)}`);
      resolve();
    }),
  );
  let onConnected: (v: boolean) => void = () => {};
  const connected = new Promise<boolean>((resolve) => (onConnected = resolve));
  void exited.then(() => onConnected(false));
  let onBoot: (v: string[] | undefined) => void = () => {};
  const boot = new Promise<string[] | undefined>((resolve) => (onBoot = resolve));
  void exited.then(() => onBoot(undefined));
  let onDrained: () => void = () => {};
  const drained = new Promise<void>((resolve) => (onDrained = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    let m: { boot?: { alerts: string[] }; connected?: boolean; accepted?: Accepted; drained?: boolean };
    try {
      m = JSON.parse(line) as typeof m;
    } catch {
      problems.push(`the device printed ${line.slice(0, 200)}`);
      return;
    }
    if (m.boot) onBoot(m.boot.alerts);
    if (m.connected) onConnected(true);
    if (m.accepted) accepted.set(m.accepted.messageId, m.accepted);
    if (m.drained) onDrained();
  });
  child.stdin.on('error', () => {}); // writing to a process that was just killed
  return {
    child,
    exited,
    connected,
    boot,
    drained,
    alive: () => alive,
    send: (command) => {
      if (alive) child.stdin.write(`${command}\n`);
    },
  };
}

/** The database as the next start will find it: opened by the device's own code, checked, read. */
function snapshot(kill: number, path = database): Snapshot {
  const db = openDatabase(path);
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    const outbox = db
      .prepare<[], { message: string; name: string }>('SELECT name, message FROM outbox ORDER BY id')
      .all()
      .map((row) => {
        const message = JSON.parse(row.message) as { event: { header: { messageId: string }; payload: { token?: unknown } } };
        const token = message.event.payload.token;
        return { messageId: message.event.header.messageId, name: row.name, ...(typeof token === 'string' ? { token } : {}) };
      });
    const alerts = db.prepare<[], { token: string }>('SELECT token FROM alerts ORDER BY token').all().map((r) => r.token);
    return { kill, at: Date.now(), integrity, outbox, alerts };
  } finally {
    db.close();
  }
}

/** Events answered 2xx, in the order the simulator answered them. */
const delivered = (): { record: RequestRecord; messageId: string; name: string; token?: string }[] =>
  sim.records
    .filter((r) => r.kind === 'event' && r.status >= 200 && r.status < 300 && r.event !== undefined)
    .map((record) => {
      const e = (record.event as { event: { header: { namespace: string; name: string; messageId: string }; payload: { token?: unknown } } }).event;
      return { record, messageId: e.header.messageId, name: `${e.header.namespace}.${e.header.name}`, ...(typeof e.payload.token === 'string' ? { token: e.payload.token } : {}) };
    });

const ENDS = new Set(['Alerts.AlertStopped', 'Alerts.DeleteAlertSucceeded']);

/** The alert checks on a snapshot: every acknowledged alert stored unless ended; no ended alert stored. */
function checkAlerts(s: Snapshot): number {
  const known = [...accepted.values(), ...delivered(), ...snapshots.flatMap((x) => x.outbox), ...s.outbox];
  const set = new Set(known.filter((e) => e.name === 'Alerts.SetAlertSucceeded').map((e) => e.token as string));
  const ended = new Set(known.filter((e) => ENDS.has(e.name)).map((e) => e.token as string));
  const stored = new Set(s.alerts);
  for (const token of set) {
    if (!stored.has(token) && !ended.has(token)) problems.push(`after kill ${s.kill}: alert ${token} was acknowledged (SetAlertSucceeded) but is gone, with no AlertStopped or DeleteAlertSucceeded`);
  }
  for (const token of stored) {
    if (ended.has(token)) problems.push(`after kill ${s.kill}: alert ${token} is still stored although its end was reported (it would ring again)`);
  }
  return set.size;
}

beforeAll(async () => {
  sim = await startSimulator({ scenario: SCENARIO, stopCapture: { idleMs: 200, afterAudioMs: 300 } });
  dir = mkdtempSync(join(tmpdir(), 'avs-power-loss-'));
  database = join(dir, 'device.db');
});
afterAll(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One kill of the plan, drawn from the seed before anything runs (so the plan does not depend on timing). */
interface PlannedKill {
  readonly kind: KillKind;
  /** For the write kinds: the child's kill settings. */
  readonly env: Record<string, string>;
  /** How long to let it run after the workload began, at most (ms). */
  readonly waitMs: number;
}

function plan(seed: number): PlannedKill[] {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return Array.from({ length: KILLS }, () => {
    const kind = pick(KINDS);
    // Inside a write: the Nth one of this life, or the one that queues a chosen event.
    const target: Record<string, string> = random() < 0.5 ? { AVS_KILL_AT_WRITE: String(1 + int(16)) } : { AVS_KILL_ON_EVENT: pick(TARGET_EVENTS) };
    const env = kind.startsWith('write-') ? { ...target, AVS_KILL_MODE: kind.slice('write-'.length), AVS_KILL_DELAY_US: String(int(300)) } : {};
    return { kind, env, waitMs: int(kind === 'alert-ringing' ? 800 : 500) };
  });
}

it('loses and duplicates nothing across 100 SIGKILLs at random moments (fixed seed)', async () => {
  const kills = plan(SEED);
  // The workload has a generator of its own: how much of it a life sees depends on timing.
  const random = prng(SEED + 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const int = (n: number) => Math.floor(random() * n);
  let alertsChecked = 0;
  let previous: Snapshot | undefined;
  const deleted = new Set<string>();
  /** Alerts AVS heard were set and has not asked to delete yet (a second DeleteAlert is answered too, §7.4). */
  const deletable = () => delivered().filter((e) => e.name === 'Alerts.SetAlertSucceeded' && !deleted.has(e.token as string)).map((e) => e.token as string);

  /** One random step of the workload: an alert set or deleted from the app, the volume, a dialog, a local stop. */
  const act = (life: Life) => {
    const r = random();
    if (r < 0.35) {
      const token = `app-${++counter}`;
      // Mostly soon (rings, and stops by itself after one or two loops), some far ahead.
      const at = random() < 0.7 ? Date.now() + 200 + int(3000) : Date.now() + 3600_000 * (1 + int(48));
      sim.pushDirective({
        directive: {
          header: { namespace: 'Alerts', name: 'SetAlert', messageId: `set-${token}` },
          payload: { token, type: pick(['TIMER', 'ALARM', 'REMINDER']), scheduledTime: iso(at), loopCount: 1 + int(2) },
        },
      });
    } else if (r < 0.5) {
      const known = deletable();
      if (known.length > 0) {
        const token = pick(known);
        deleted.add(token);
        sim.pushDirective({ directive: { header: { namespace: 'Alerts', name: 'DeleteAlert', messageId: `del-${++counter}` }, payload: { token } } });
      }
    } else if (r < 0.8) {
      life.send(`volume ${int(101)}`);
    } else if (r < 0.92) {
      if (random() < 0.4) sim.tagNext('timer');
      life.send('tap');
    } else {
      life.send('stop');
    }
  };

  for (let kill = 1; kill <= KILLS; kill++) {
    const { kind, env, waitMs } = kills[kill - 1];
    const life = start(env);
    const boot = await life.boot;
    if (boot !== undefined && previous !== undefined) {
      // The next start reloads exactly what the database held, each alert once (§7.2, §7.6).
      const sorted = [...boot].sort();
      if (new Set(boot).size !== boot.length) problems.push(`start after kill ${previous.kill}: an alert reloaded twice: ${boot.join(', ')}`);
      if (JSON.stringify(sorted) !== JSON.stringify(previous.alerts)) {
        problems.push(`start after kill ${previous.kill}: reloaded ${sorted.join(', ')} but the database held ${previous.alerts.join(', ')}`);
      }
      bootsChecked++;
    }
    const up = await life.connected;
    if (!up) killsAtBoot++;
    if (up) {
      switch (kind) {
        case 'write-before':
        case 'write-after':
        case 'write-during':
          // Work until the chosen write kills it (or, if the workload wrote less, a kill anyway).
          for (let step = 0; step < 30 && life.alive(); step++) {
            act(life);
            await Promise.race([life.exited, sleep(int(50))]);
          }
          break;
        case 'timed':
          for (let step = int(4); step > 0; step--) act(life);
          await Promise.race([life.exited, sleep(waitMs)]);
          break;
        case 'mid-dialog': {
          const from = sim.events().length;
          if (random() < 0.5) sim.tagNext('timer');
          life.send('tap');
          await Promise.race([life.exited, sim.waitForEvent('SpeechRecognizer.Recognize', 10_000, from).catch(() => undefined)]);
          await Promise.race([life.exited, sleep(waitMs)]);
          break;
        }
        case 'alert-ringing': {
          const token = `ring-${++counter}`;
          const from = sim.events().length;
          life.send('stop'); // whatever rings now, so this one is next
          sim.pushDirective({
            directive: {
              header: { namespace: 'Alerts', name: 'SetAlert', messageId: `set-${token}` },
              payload: { token, type: pick(['TIMER', 'ALARM']), scheduledTime: iso(Date.now() + 100), loopCount: 3 },
            },
          });
          const started = (e: { name: string; document: { event: { payload: Record<string, unknown> } } }) => e.name === 'Alerts.AlertStarted' && e.document.event.payload.token === token;
          await Promise.race([life.exited, sim.waitForEvent(started, 10_000, from).catch(() => undefined)]);
          await Promise.race([life.exited, sleep(waitMs)]);
          break;
        }
      }
    }
    if (life.alive()) life.child.kill('SIGKILL');
    else if (kind.startsWith('write-')) killsInsideWrites++;
    await life.exited;
    killsByKind[kind] = (killsByKind[kind] ?? 0) + 1;

    const s = snapshot(kill);
    if (s.integrity !== 'ok') problems.push(`after kill ${kill} (${kind}): integrity_check says ${s.integrity}`);
    if (new Set(s.outbox.map((e) => e.messageId)).size !== s.outbox.length) problems.push(`after kill ${kill}: an event twice in the outbox`);
    alertsChecked += checkAlerts(s);
    snapshots.push(s);
    previous = s;
  }

  // The last start: everything left is delivered, then a clean stop.
  const last = start();
  const boot = await last.boot;
  if (boot && previous && JSON.stringify([...boot].sort()) !== JSON.stringify(previous.alerts)) problems.push(`the last start reloaded ${boot.join(', ')}, not ${previous.alerts.join(', ')}`);
  expect(await last.connected).toBe(true);
  last.send('drain');
  const drained = await Promise.race([last.drained.then(() => true), last.exited.then(() => false), sleep(120_000).then(() => false)]);
  if (!drained) problems.push('the last start did not deliver everything within two minutes');
  last.send('quit');
  await last.exited;
  const final = snapshot(KILLS + 1);
  expect(final.integrity).toBe('ok');
  expect(final.outbox).toEqual([]);
  alertsChecked += checkAlerts(final);

  // Nothing accepted was lost.
  const deliveries = delivered();
  const byMessageId = new Map<string, typeof deliveries>();
  for (const d of deliveries) byMessageId.set(d.messageId, [...(byMessageId.get(d.messageId) ?? []), d]);
  const mustArrive = new Map<string, Accepted>([...accepted].concat(snapshots.flatMap((s) => s.outbox.map((e): [string, Accepted] => [e.messageId, e]))));
  for (const [messageId, e] of mustArrive) {
    if (!byMessageId.has(messageId)) problems.push(`${e.name} ${e.token ?? ''} (${messageId}) was accepted but never delivered`);
  }
  // Nothing was delivered twice, but what a kill left in the outbox after its answer (at-least-once).
  let redelivered = 0;
  for (const [messageId, list] of byMessageId) {
    if (list.length < 2) continue;
    const first = list[0].record.at;
    const explained = snapshots.some((s) => s.at > first && s.outbox.some((e) => e.messageId === messageId));
    if (!explained) problems.push(`${list[0].name} ${list[0].token ?? ''} (${messageId}) was delivered ${list.length} times`);
    else redelivered += list.length - 1;
  }
  // …and no alert's result or end was sent twice under different messageIds.
  for (const name of ['Alerts.SetAlertSucceeded', 'Alerts.DeleteAlertSucceeded', 'Alerts.AlertStopped']) {
    const ids = new Map<string, Set<string>>();
    for (const d of deliveries) if (d.name === name) ids.set(d.token as string, (ids.get(d.token as string) ?? new Set()).add(d.messageId));
    for (const [token, set] of ids) if (set.size > 1) problems.push(`${name} for alert ${token} was sent ${set.size} times (different messageIds)`);
  }

  const figures = {
    seed: SEED,
    kills: Object.values(killsByKind).reduce((a, b) => a + b, 0),
    killsByKind,
    killsBeforeConnected: killsAtBoot,
    killsInsideWrites,
    integrityChecks: snapshots.length,
    restartsChecked: bootsChecked + 1,
    eventsChecked: mustArrive.size,
    eventsDelivered: byMessageId.size,
    redeliveredAfterLostAnswer: redelivered,
    alertsSet: new Set(deliveries.filter((d) => d.name === 'Alerts.SetAlertSucceeded').map((d) => d.token)).size,
    alertsFired: new Set(deliveries.filter((d) => d.name === 'Alerts.AlertStarted').map((d) => d.token)).size,
    alertChecks: alertsChecked,
    lost: problems.filter((p) => /gone|never delivered/.test(p)).length,
    duplicated: problems.filter((p) => /twice|times|ring again/.test(p)).length,
    problems: problems.length,
  };
  mkdirSync(join(ROOT, 'coverage', 'reliability'), { recursive: true });
  writeFileSync(join(ROOT, 'coverage', 'reliability', 'power-loss.json'), `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`power loss: ${JSON.stringify(figures)}\n`);

  expect(problems).toEqual([]);
  expect(figures.kills).toBe(KILLS);
}, 600_000);

// Found by the test above: an alert's change and the event reporting it were two writes. With the
// event first, a power cut between them kept a stopped alert (it rang again after the restart);
// with the change first, it lost the event (AVS never heard the alert had stopped). They are one
// transaction now: after a cut at any point of that write, both happened or neither.
describe.each(['before', 'after', 'during'])('a power cut %s the write that queues an alert\'s end', (mode) => {
  it.each([
    ['AlertStopped (the alert rang out)', 'Alerts.AlertStopped'],
    ['DeleteAlertSucceeded (AVS deleted it)', 'Alerts.DeleteAlertSucceeded'],
  ])('%s: the alert is gone and the event queued, or neither; after the restart, reported once', async (_what, event) => {
    const db = join(dir, `regression-${mode}-${event}.db`);
    const token = `reg-${mode}-${event}`;
    const life = start({ AVS_KILL_ON_EVENT: event, AVS_KILL_MODE: mode, AVS_KILL_DELAY_US: '20' }, db);
    expect(await life.connected).toBe(true);
    const deleting = event === 'Alerts.DeleteAlertSucceeded';
    const at = deleting ? Date.now() + 3600_000 : Date.now() + 200;
    sim.pushDirective({ directive: { header: { namespace: 'Alerts', name: 'SetAlert', messageId: `set-${token}` }, payload: { token, type: 'TIMER', scheduledTime: iso(at), loopCount: 1 } } });
    if (deleting) {
      await sim.waitForEvent((e) => e.name === 'Alerts.SetAlertSucceeded' && e.document.event.payload.token === token, 10_000);
      sim.pushDirective({ directive: { header: { namespace: 'Alerts', name: 'DeleteAlert', messageId: `del-${token}` }, payload: { token } } });
    }
    await life.exited;
    const cut = snapshot(0, db);
    expect(cut.integrity).toBe('ok');
    const queued = cut.outbox.some((e) => e.name === event && e.token === token);
    expect({ stored: cut.alerts.includes(token), queued }).toEqual({ stored: !queued, queued });

    const again = start({}, db);
    expect(await again.connected).toBe(true);
    if (!queued && !deleting) await sim.waitForEvent((e) => e.name === event && e.document.event.payload.token === token, 10_000); // it rings (again) and ends
    if (!queued && deleting) {
      sim.pushDirective({ directive: { header: { namespace: 'Alerts', name: 'DeleteAlert', messageId: `del-again-${token}` }, payload: { token } } });
      await sim.waitForEvent((e) => e.name === event && e.document.event.payload.token === token, 10_000);
    }
    again.send('drain');
    await again.drained;
    again.send('quit');
    await again.exited;
    const after = snapshot(1, db);
    expect(after.alerts).not.toContain(token);
    expect(after.outbox).toEqual([]);
    const reported = new Set(delivered().filter((d) => d.name === event && d.token === token).map((d) => d.messageId));
    expect(reported.size).toBe(1);
  }, 60_000);
});

// End to end, alerts (PROTOCOL.md §7, §4.2): createDevice on a simulated clock against the
// simulator (the network on real time), the recording output, the SQLite database; a process
// killed after SetAlertSucceeded; alerts going off while AVS cannot be reached.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { waitFor } from 'xstate';
import { RecordingOutput } from '../../../drivers/audio-output/recording-output';
import { SimulatedClock } from '../../../drivers/clock/simulated-clock';
import { createLogger, silentLogger } from '../../../services/log/logger';
import { StaticTokenSource } from '../../../services/transport';
import { createDevice, type Device, type DeviceConfig } from '../../../runtime/device/device';
import { startSimulator, type Simulator } from '../../avs-cloud';
import { silentMp3 } from '../../avs-cloud/mp3';

const ROOT = join(__dirname, '..', '..', '..');
const T0 = Date.parse('2026-11-26T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', '+0000');
const YEAR = 365 * 24 * 3600_000;

let sim: Simulator;
let dir: string;
const devices: Device[] = [];
beforeEach(async () => {
  sim = await startSimulator();
  dir = mkdtempSync(join(tmpdir(), 'avs-alerts-'));
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.stop();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function device(extra: Partial<DeviceConfig> = {}) {
  const clock = extra.clock instanceof SimulatedClock ? extra.clock : new SimulatedClock(T0);
  const output = new RecordingOutput();
  const d = createDevice({
    endpoint: sim.url,
    ca: sim.ca,
    tokens: new StaticTokenSource(sim.defaultToken),
    logger: process.env.AVS_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger(),
    seed: 9,
    // Days go by on the simulated clock; no hourly report for each of them.
    inactivityReportMs: 10 * YEAR,
    ...extra,
    clock,
    drivers: { output, ...extra.drivers },
  });
  devices.push(d);
  return { device: d, clock, output };
}

let n = 0;
const setAlert = (token: string, at: number, type = 'TIMER') =>
  sim.pushDirective({ directive: { header: { namespace: 'Alerts', name: 'SetAlert', messageId: `set-${++n}` }, payload: { token, type, scheduledTime: iso(at) } } });
const deleteAlert = (token: string) => sim.pushDirective({ directive: { header: { namespace: 'Alerts', name: 'DeleteAlert', messageId: `del-${++n}` }, payload: { token } } });
const alertEvents = (from = 0) =>
  sim
    .receivedEvents()
    .slice(from)
    .filter((e) => e.name.startsWith('Alerts.'))
    .map((e) => `${e.name.slice('Alerts.'.length)}:${String(e.document.event.payload.token)}`);
const waitAlertEvent = (name: string, token: string) => sim.waitForEvent((e) => e.name === `Alerts.${name}` && e.document.event.payload.token === token, 10_000);
const alerting = (d: Device) => waitFor(d.actors.alerts, (s) => s.matches('ALERTING'), { timeout: 5000 });
const sounding = (d: Device) => d.actors.alerts.getSnapshot().matches('ALERTING');

describe('alerts against the simulator, on a simulated clock', () => {
  it('a timer goes off at its second, not before; AlertStarted, then a local stop (§7.3, §7.5, §7.6)', async () => {
    const { device: d, clock, output } = device();
    await d.whenConnected();
    setAlert('t1', T0 + 5000);
    await waitAlertEvent('SetAlertSucceeded', 't1');
    expect(d.context()).toContainEqual({ header: { namespace: 'Alerts', name: 'AlertsState' }, payload: { allAlerts: [{ token: 't1', type: 'TIMER', scheduledTime: iso(T0 + 5000) }], activeAlerts: [] } });
    clock.advance(4999);
    expect(sounding(d)).toBe(false);
    clock.advance(1);
    await alerting(d);
    await waitAlertEvent('AlertStarted', 't1');
    expect(output.recordings[0].source).toMatchObject({ kind: 'stream', format: 'wav' });
    d.stopAlert();
    await waitAlertEvent('AlertStopped', 't1');
    expect(alertEvents()).toEqual(['SetAlertSucceeded:t1', 'AlertStarted:t1', 'AlertStopped:t1']);
    expect(d.context()).toContainEqual({ header: { namespace: 'Alerts', name: 'AlertsState' }, payload: { allAlerts: [], activeAlerts: [] } });
  });

  it('an alarm 40 days away goes off exactly on time (§7)', async () => {
    const { device: d, clock } = device();
    await d.whenConnected();
    const at = T0 + 40 * 24 * 3600_000 + 1234;
    setAlert('a40', at, 'ALARM');
    await waitAlertEvent('SetAlertSucceeded', 'a40');
    clock.advanceTo(at - 1);
    expect(sounding(d)).toBe(false);
    clock.advance(1);
    await alerting(d);
    await waitAlertEvent('AlertStarted', 'a40');
  });

  it('a wall-clock jump re-plans: forward past the time fires it, backwards delays it (§7)', async () => {
    const { device: d, clock } = device();
    await d.whenConnected();
    setAlert('fwd', T0 + 3600_000);
    setAlert('back', T0 + 7200_000);
    await waitAlertEvent('SetAlertSucceeded', 'back');
    clock.jump(3600_000); // NTP moved the clock an hour on
    await alerting(d);
    await waitAlertEvent('AlertStarted', 'fwd');
    d.stopAlert();
    await waitAlertEvent('AlertStopped', 'fwd');
    clock.jump(-3600_000); // and back again: the wall clock says T0, "back" is two hours away
    clock.advance(2 * 3600_000 - 1);
    expect(sounding(d)).toBe(false);
    clock.advance(1);
    await alerting(d);
    await waitAlertEvent('AlertStarted', 'back');
  });

  it('a deleted alert never goes off; two alerts at the same time sound one after the other (§7.4, §7.6)', async () => {
    const { device: d, clock } = device();
    await d.whenConnected();
    setAlert('gone', T0 + 1000);
    setAlert('x', T0 + 2000);
    setAlert('y', T0 + 2000);
    await waitAlertEvent('SetAlertSucceeded', 'y');
    deleteAlert('gone');
    await waitAlertEvent('DeleteAlertSucceeded', 'gone');
    clock.advance(2000);
    await waitAlertEvent('AlertStarted', 'x');
    expect(alertEvents()).not.toContain('AlertStarted:y');
    d.stopAlert();
    await waitAlertEvent('AlertStarted', 'y');
    // "Alexa, stop" (§7.4): a DeleteAlert for the sounding alert: AlertStopped, then DeleteAlertSucceeded.
    deleteAlert('y');
    await waitAlertEvent('DeleteAlertSucceeded', 'y');
    const events = alertEvents();
    expect(events).not.toContain('AlertStarted:gone');
    expect(events.slice(-5)).toEqual(['AlertStarted:x', 'AlertStopped:x', 'AlertStarted:y', 'AlertStopped:y', 'DeleteAlertSucceeded:y']);
  });

  it('an alert going off during speech sounds in the background, and comes back to the foreground (§4.2, §7.6)', async () => {
    const output = new RecordingOutput({ paced: true });
    const { device: d, clock } = device({ drivers: { output } });
    await d.whenConnected();
    setAlert('t1', T0 + 1000);
    await waitAlertEvent('SetAlertSucceeded', 't1');
    sim.pushDirective({ directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak', messageId: 'talk' }, payload: { url: 'cid:talk', format: 'AUDIO_MPEG', token: 'talk' } } }, { talk: silentMp3(1500) });
    await sim.waitForEvent('SpeechSynthesizer.SpeechStarted');
    clock.advance(1000);
    await waitAlertEvent('AlertEnteredBackground', 't1');
    await sim.waitForEvent('SpeechSynthesizer.SpeechFinished');
    // The synthesizer gives the Dialog channel back one turn later (its HANDOVER delay), on the device's clock.
    clock.advance(0);
    await waitAlertEvent('AlertEnteredForeground', 't1');
    expect(alertEvents()).toEqual(['SetAlertSucceeded:t1', 'AlertStarted:t1', 'AlertEnteredBackground:t1', 'AlertEnteredForeground:t1']);
  });

  it('a SetAlert too malformed to decode: ExceptionEncountered and SetAlertFailed; one 31 minutes past: SetAlertFailed (§7.3)', async () => {
    const { device: d } = device();
    await d.whenConnected();
    sim.pushDirective('{"directive":{"header":{"namespace":"Alerts","name":"SetAlert","messageId":"bad"},"payload":{"token":"b1","type":"TIMER","scheduledTime":"tomorrow"}}}');
    await waitAlertEvent('SetAlertFailed', 'b1');
    expect(sim.receivedEvents().filter((e) => e.name === 'System.ExceptionEncountered')).toHaveLength(1);
    setAlert('late', T0 - 31 * 60_000);
    await waitAlertEvent('SetAlertFailed', 'late');
    expect(d.context()).toContainEqual({ header: { namespace: 'Alerts', name: 'AlertsState' }, payload: { allAlerts: [], activeAlerts: [] } });
  });
});

describe('alerts across a power loss', () => {
  it('an alert set just before a SIGKILL is there after the restart and goes off; one 31 minutes overdue is dropped and reported (§7.6)', async () => {
    const database = join(dir, 'device.db');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'fixtures', 'scripts', 'alert-device.ts'), sim.url, sim.caPath ?? '', sim.defaultToken, database], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve) => child.stdout.on('data', (b: Buffer) => b.toString().includes('connected') && resolve()));
    const soon = Date.now() + 60_000;
    const overdue = Date.now() + 90_000;
    setAlert('keep', soon);
    setAlert('stale', overdue, 'ALARM');
    await waitAlertEvent('SetAlertSucceeded', 'stale');
    child.kill('SIGKILL');
    await exited;

    // Back 31 minutes after the stale one was due: "keep" (due earlier still) is past by more too —
    // so restart first at a time where only "stale" is out of reach: impossible; restart twice.
    const first = device({ database, clock: new SimulatedClock(soon - 1000) });
    await first.device.whenConnected();
    expect(first.device.context()).toContainEqual({
      header: { namespace: 'Alerts', name: 'AlertsState' },
      payload: { allAlerts: [expect.objectContaining({ token: 'keep' }), expect.objectContaining({ token: 'stale' })], activeAlerts: [] },
    });
    first.clock.advance(1000);
    await waitAlertEvent('AlertStarted', 'keep');
    const accepted = firstValueFrom(first.device.reports$.pipe(filter((r) => r.kind === 'sent' && r.entry.name === 'Alerts.AlertStopped')));
    first.device.stopAlert();
    await accepted;
    await first.device.stop();
    devices.splice(devices.indexOf(first.device), 1);

    const from = sim.receivedEvents().length;
    const second = device({ database, clock: new SimulatedClock(overdue + 31 * 60_000) });
    await waitAlertEvent('AlertStopped', 'stale');
    expect(alertEvents(from)).toEqual(['AlertStopped:stale']);
    expect(second.device.context()).toContainEqual({ header: { namespace: 'Alerts', name: 'AlertsState' }, payload: { allAlerts: [], activeAlerts: [] } });
    expect(second.output.recordings).toHaveLength(0);
  });
});

describe('alerts while AVS cannot be reached', () => {
  it('the alert goes off offline; its events reach AVS in order once it is back (§7, §7.5)', async () => {
    // A TCP relay between the device and the simulator: "down" closes every connection and refuses new ones.
    const sockets = new Set<Socket>();
    let up = true;
    const relay: Server = createServer((socket) => {
      if (!up) return socket.destroy();
      const upstream = connect(sim.port, '127.0.0.1');
      sockets.add(socket).add(upstream);
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as { port: number }).port;
    try {
      const database = join(dir, 'device.db');
      const { device: d, clock } = device({ endpoint: `https://localhost:${port}`, database, maxRetryDelayMs: 200 });
      await d.whenConnected();
      const accepted = firstValueFrom(d.reports$.pipe(filter((r) => r.kind === 'sent' && r.entry.name === 'Alerts.SetAlertSucceeded')));
      setAlert('offline', T0 + 60_000);
      await accepted;
      up = false;
      for (const s of sockets) s.destroy();
      await waitFor(d.actors.connection, (s) => !s.matches({ ONLINE: 'CONNECTED' }), { timeout: 5000 });
      clock.advance(60_000);
      await alerting(d);
      await waitFor(d.actors.alerts, (s) => Object.values(s.context.alerts).some((e) => e.ref.getSnapshot().context.started), { timeout: 5000 });
      d.stopAlert();
      expect(alertEvents()).toEqual(['SetAlertSucceeded:offline']);
      expect(d.connection.outbox.size).toBe(2);
      up = true;
      await waitAlertEvent('AlertStopped', 'offline');
      expect(alertEvents()).toEqual(['SetAlertSucceeded:offline', 'AlertStarted:offline', 'AlertStopped:offline']);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });
});

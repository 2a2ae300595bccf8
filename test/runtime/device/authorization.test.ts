// End to end, Login with Amazon (PROTOCOL.md §12): the device links itself against the
// simulator's LWA endpoints by every path, refreshes on a simulated clock, is unlinked by a revoked
// token, and never writes a token into a log line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { waitFor } from 'xstate';
import { SimulatedClock } from '../../../drivers/clock/simulated-clock';
import { RecordingOutput } from '../../../drivers/audio-output/recording-output';
import { FileMicrophone } from '../../../drivers/microphone/file-microphone';
import { createLogger } from '../../../services/log/logger';
import { newPkce } from '../../../services/lwa/client';
import { openDatabase } from '../../../services/store/database';
import { createDevice, type Device, type DeviceConfig } from '../../../runtime/device/device';
import { TOKEN_KEYS } from '../../../runtime/device/authorization';
import { startSimulator, type Simulator } from '../../avs-cloud';
import { logLines } from '../../support/log-lines';

const WAV = join(__dirname, '..', '..', 'fixtures', 'audio', 'what-time-is-it.wav');
const CLIENT = 'amzn1.application-oa2-client.sim';
const REDIRECT = 'amzn://com.example.companion';

let sim: Simulator;
let dir: string;
let logs: string[];
/** Every token seen in the test: none may appear in a log line. */
let secrets: string[];
const devices: Device[] = [];
beforeEach(async () => {
  sim = await startSimulator({ lwa: { pollInterval: 1, codePairExpiresIn: 120 } });
  dir = mkdtempSync(join(tmpdir(), 'avs-auth-'));
  logs = [];
  secrets = [];
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.stop();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function device(extra: Partial<DeviceConfig> = {}) {
  const clock = new SimulatedClock(Date.now());
  const destination = logLines(logs);
  const d = createDevice({
    endpoint: sim.url,
    ca: sim.ca,
    database: join(dir, 'device.db'),
    authorization: { clientId: CLIENT, productId: 'product-1', deviceSerialNumber: 'dsn-1', url: sim.url },
    logger: createLogger({ level: 'trace', destination }),
    clock,
    inactivityReportMs: 10 * 365 * 24 * 3600_000,
    drivers: { output: new RecordingOutput(), microphone: new FileMicrophone(WAV, { then: 'silence' }) },
    ...extra,
  });
  devices.push(d);
  const auth = d.authorization;
  if (!auth) throw new Error('no authorization');
  auth.actor.on('TOKENS.CHANGED', (e) => secrets.push(e.accessToken, ...(e.refreshToken ? [e.refreshToken] : [])));
  return { device: d, auth, clock };
}

const state = (d: Device) => JSON.stringify(d.authorization?.actor.getSnapshot().value);
const issue = (): { accessToken: string; refreshToken: string } => {
  const pair = sim.tokens.issue();
  secrets.push(pair.accessToken, pair.refreshToken);
  return pair;
};
const eventName = (r: { event?: unknown }) => (r.event as { event?: { header?: { name?: string } } } | undefined)?.event?.header?.name;

describe('Login with Amazon against the simulator', () => {
  it('companion app (§12.5): registration details with a PKCE challenge, the code exchanged with the verifier, linked, connected', async () => {
    const { device: d, auth } = device();
    expect(state(d)).toBe('"UNLINKED"');
    const info = auth.registrationInfo();
    expect(info).toMatchObject({ productId: 'product-1', deviceSerialNumber: 'dsn-1', codeChallengeMethod: 'S256' });
    expect(auth.registrationInfo().codeChallenge).toBe(info.codeChallenge); // the verifier is kept
    const code = sim.authorizationCode({ clientId: CLIENT, redirectUri: REDIRECT, codeChallenge: info.codeChallenge });
    auth.authorize({ code, redirectUri: REDIRECT, clientId: CLIENT });
    await d.whenConnected();
    expect(d.authorization?.actor.getSnapshot().context.linkedBy).toBe('COMPANION_APP');
    const db = openDatabase(join(dir, 'device.db'));
    expect(db.prepare('SELECT value FROM kv WHERE key = ?').get(TOKEN_KEYS.refreshToken)).toBeDefined();
    db.close();
  });

  it('a code whose verifier does not match is refused: ERROR, not connected', async () => {
    const { device: d, auth } = device();
    auth.registrationInfo();
    const other = newPkce();
    const code = sim.authorizationCode({ clientId: CLIENT, redirectUri: REDIRECT, codeChallenge: other.challenge });
    auth.authorize({ code, redirectUri: REDIRECT, clientId: CLIENT });
    await waitFor(auth.actor, (s) => s.matches('ERROR'), { timeout: 5000 });
    expect(auth.actor.getSnapshot().context.error).toMatch(/invalid_grant/);
    expect(d.connection.connected).toBe(false);
  });

  it('tokens handed in by a local app link the device (§12)', async () => {
    const { device: d, auth } = device();
    const pair = issue();
    auth.setTokens({ accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresIn: 3600 });
    await d.whenConnected();
    expect(auth.actor.getSnapshot().context.linkedBy).toBe('LOCAL_APP');
  });

  it('code-based linking (§12.1): code pair shown, pending, slow_down, approval, linked; an expired code pair is replaced', async () => {
    const { device: d, auth, clock } = device();
    const pairs: { userCode: string; verificationUri: string }[] = [];
    auth.actor.on('CODE_PAIR.READY', (e) => pairs.push(e));
    auth.login();
    await waitFor(auth.actor, (s) => s.matches('WAITING_FOR_USER'), { timeout: 5000 });
    expect(pairs[0].verificationUri).toBe(`${sim.url}/sim/code`);
    // The code pair expires before the user comes: a new one (§16 #10).
    clock.advance(120_000);
    await waitFor(auth.actor, (s) => s.matches('WAITING_FOR_USER') && s.context.codePair?.userCode !== pairs[0].userCode, { timeout: 5000 });
    expect(pairs).toHaveLength(2);
    // Polls: pending, and slow_down when they come faster than the interval (the simulated clock is quicker than the simulator's).
    const before = auth.actor.getSnapshot().context.pollIntervalMs;
    for (let i = 0; i < 3; i++) {
      clock.advance(auth.actor.getSnapshot().context.pollIntervalMs);
      await waitFor(auth.actor, (s) => s.matches({ WAITING_FOR_USER: 'WAITING' }), { timeout: 5000 });
    }
    expect(auth.actor.getSnapshot().context.pollIntervalMs).toBeGreaterThan(before);
    expect(sim.approve(pairs[1].userCode)).toBe(true);
    await new Promise((r) => setTimeout(r, 1100)); // the simulator's own clock: not a slow_down this time
    clock.advance(auth.actor.getSnapshot().context.pollIntervalMs);
    await d.whenConnected();
    expect(auth.actor.getSnapshot().context.linkedBy).toBe('CODE_BASED_LINKING');
  });

  it('refreshes ahead of expiry (§12.3: 10 minutes before), on the clock', async () => {
    const { device: d, auth, clock } = device();
    const pair = issue();
    auth.setTokens({ accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresIn: 3600 });
    await d.whenConnected();
    const changed: string[] = [];
    auth.actor.on('TOKENS.CHANGED', (e) => changed.push(e.accessToken));
    clock.advance(3600_000 - 600_000 - 1);
    expect(state(d)).toBe('"LINKED"');
    clock.advance(1);
    await waitFor(auth.actor, (s) => s.matches('LINKED') && changed.length === 1, { timeout: 5000 });
    expect(changed[0]).not.toBe(pair.accessToken);
    expect(auth.current()).toBe(changed[0]);
  });

  it('a revoked refresh token unlinks the device and wipes its data (§12.2)', async () => {
    const { device: d, auth } = device();
    const pair = issue();
    auth.setTokens({ accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresIn: 3600 });
    await d.whenConnected();
    d.setVolume(35);
    sim.tokens.revoke(pair.refreshToken);
    auth.actor.send({ type: 'TOKEN.REJECTED' });
    await waitFor(auth.actor, (s) => s.matches('UNLINKED'), { timeout: 5000 });
    const db = openDatabase(join(dir, 'device.db'));
    expect(db.prepare('SELECT count(*) AS n FROM kv').get()).toEqual({ n: 0 });
    db.close();
  });

  it('a 403 during a dialog: the token is refreshed and the event goes through once (§1.5.4, §12.3)', async () => {
    const { device: d, auth } = device();
    const pair = issue();
    auth.setTokens({ accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresIn: 3600 });
    await d.whenConnected();
    const sent = firstValueFrom(d.reports$.pipe(filter((r) => r.kind === 'sent' && r.entry.name === 'SpeechSynthesizer.SpeechStarted')));
    d.tap();
    await sim.waitForEvent('SpeechRecognizer.Recognize');
    sim.faults.failNext(403, { target: 'event' });
    await sim.waitForEvent('SpeechSynthesizer.SpeechFinished', 10_000);
    const refreshed = await sent;
    expect(refreshed.kind === 'sent' && refreshed.status).toBe(204);
    const started = sim.records.filter((r) => r.kind === 'event' && eventName(r) === 'SpeechStarted');
    expect(started.map((r) => r.status)).toEqual([403, 204]);
    expect(auth.current()).not.toBe(pair.accessToken);
  });

  afterEach(() => {
    // No token in any log line of the run (CONVENTIONS.md; §12: the refresh token is a secret).
    const text = logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const token of secrets) expect(text).not.toContain(token);
  });
});

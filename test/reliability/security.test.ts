// Issue 12, security: the database (which holds the refresh token, §12.2) is the owner's only,
// whatever the umask; no token in any log line, simulator trace, inspector stream or error; the
// inspector listens on 127.0.0.1 only; TLS verification cannot be turned off by
// NODE_TLS_REJECT_UNAUTHORIZED=0.
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { waitFor } from 'xstate';
import { RecordingOutput } from '../../drivers/audio-output/recording-output';
import { loadConfig } from '../../runtime/config';
import { createDevice, type Device } from '../../runtime/device/device';
import { startInspector, type InspectorOptions } from '../../runtime/inspector/server';
import { createLogger } from '../../services/log/logger';
import type { SenderReport } from '../../services/transport';
import { startSimulator, type Simulator } from '../avs-cloud';
import { openSse } from '../runtime/inspector/sse';
import { logLines } from '../support/log-lines';

// The module object itself (an `import * as` would be a copy, and a spy on it would see nothing).
const nodeHttp = require('node:http') as typeof import('node:http');

const ROOT = join(__dirname, '..', '..');
const SCRIPTS = join(ROOT, 'test', 'fixtures', 'scripts');
const CLIENT = 'amzn1.application-oa2-client.sim';
/** Any token the simulator mints (run-jest.js fails the run on these, too). */
const ANY_TOKEN = /Atz[ar]\|sim-[A-Za-z0-9_-]{8,}/;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avs-security-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Fails naming where a secret was found, without printing it (a printed token fails the run). */
function expectNoSecret(where: string, text: string, secrets: readonly string[]): void {
  const found = secrets.findIndex((s) => text.includes(s));
  if (found >= 0) throw new Error(`${where} holds secret #${found} (${secrets[found].slice(0, 6)}…)`);
  const m = ANY_TOKEN.exec(text);
  if (m) throw new Error(`${where} holds a simulator token (${m[0].slice(0, 6)}…) at offset ${m.index}`);
}

describe('the database and the token are the owner\'s only', () => {
  it('is created 0600 (its WAL and shared memory too, its folder 0700) even under umask 0, and an existing world-readable one is narrowed', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(SCRIPTS, 'umask-database.ts'), dir], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const modes = JSON.parse(r.stdout) as { umask: number; kept: boolean; during: Record<string, string>; reopened: Record<string, string> };
    expect(modes.umask).toBe(0);
    expect(modes.kept).toBe(true); // the refresh token is in that file
    expect(modes.during).toEqual({ db: '0600', wal: '0600', shm: '0600', dir: '0700' });
    expect(modes.reopened).toEqual({ db: '0600', wal: '0600', shm: '0600' });
  });
});

describe('no token in any log line, trace, inspector stream or error', () => {
  let sim: Simulator;
  let device: Device | undefined;
  afterEach(async () => {
    await device?.stop();
    device = undefined;
    await sim.stop();
  });

  it('through linking, a connect, a 403 and a refresh, a refused event, a malformed directive and an unlinking by a revoked token', async () => {
    const tracePath = join(dir, 'sim-trace.jsonl');
    sim = await startSimulator({ tracePath, lwa: { rotateRefreshTokens: true } });
    const inspector = await startInspector();
    const logs: string[] = [];
    const destination = logLines(logs);
    const d = createDevice({
      endpoint: sim.url,
      ca: sim.ca,
      database: join(dir, 'device.db'),
      authorization: { clientId: CLIENT, productId: 'product-1', deviceSerialNumber: 'dsn-1', url: sim.url },
      capabilities: { identity: { clientId: CLIENT, productId: 'product-1', deviceSerialNumber: 'dsn-1' } },
      logger: createLogger({ level: 'trace', destination }),
      inspect: inspector.inspect,
      drivers: { output: new RecordingOutput() },
      maxRetryDelayMs: 200,
    });
    device = d;
    const auth = d.authorization;
    if (!auth) throw new Error('no authorization');
    const secrets: string[] = [];
    let refreshToken = '';
    auth.actor.on('TOKENS.CHANGED', (e) => {
      secrets.push(e.accessToken, ...(e.refreshToken ? [e.refreshToken] : []));
      if (e.refreshToken) refreshToken = e.refreshToken;
    });
    const reports: SenderReport[] = [];
    d.reports$.subscribe((r) => reports.push(r));
    const errors: string[] = [];
    d.exceptions$.subscribe((e) => errors.push(JSON.stringify(e)));
    const page = await openSse(`${inspector.url}events`);
    const sent = (name: string) => firstValueFrom(d.reports$.pipe(filter((r) => r.kind !== 'not-connected' && r.kind !== 'outbox-full' && r.entry.name === name && r.kind !== 'held')));

    try {
      // Linked by tokens a local app handed in; connected.
      const pair = sim.tokens.issue();
      secrets.push(pair.accessToken, pair.refreshToken);
      auth.setTokens({ accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresIn: 3600 });
      await d.whenConnected();

      // A 403 on an event: refresh (a new refresh token too), and the event goes through.
      sim.faults.failNext(403, { target: 'event' });
      const volume = sent('Speaker.VolumeChanged');
      d.setVolume(30);
      expect((await volume).kind).toBe('sent');
      expect(secrets.length).toBeGreaterThanOrEqual(4);

      // A 403 on the downchannel after a dropped connection: refresh and reconnect.
      sim.faults.failNext(403, { target: 'downchannel' });
      sim.faults.dropConnections();
      await waitFor(d.actors.connection, (s) => !s.matches({ ONLINE: 'CONNECTED' }), { timeout: 10_000 });
      await d.whenConnected();

      // An event AVS refuses for good (500 three times), and a malformed directive (ExceptionEncountered).
      sim.faults.failNext(500, { count: 3, target: 'event' });
      const refused = firstValueFrom(d.reports$.pipe(filter((r) => r.kind === 'refused')));
      d.setVolume(40);
      await refused;
      sim.pushDirective('{"directive":{"header":{"namespace":"Speaker","name":"SetVolume","messageId":"bad-1"},"payload":{"volume":"loud"}}}');
      await sim.waitForEvent('System.ExceptionEncountered', 10_000);

      // The refresh token is revoked (the user deregistered): the next refresh unlinks the device.
      sim.tokens.revoke(refreshToken);
      sim.faults.failNext(403, { target: 'event' });
      d.setVolume(50);
      await waitFor(auth.actor, (s) => s.matches('UNLINKED'), { timeout: 10_000 });
      errors.push(String(auth.actor.getSnapshot().context.error), String(d.actors.connection.getSnapshot().context.lastError));
      await page.waitFor((m) => m.event === 'actor' && m.data.includes('UNLINKED'), 10_000);
    } finally {
      page.close();
      await inspector.stop();
    }
    await d.stop();
    device = undefined;
    await sim.stop();

    // The run went through what it says (so the checks below looked at something).
    const text = logs.join('');
    expect(text).toMatch(/"tokens"/);
    expect(text).toMatch(/"not linked"/);
    expect(text).toMatch(/AVS refused an event/);
    expect(text).toMatch(/malformed directive/);
    const trace = readFileSync(tracePath, 'utf8');
    expect(trace).toMatch(/"status":403/);
    expect(trace).toMatch(/\/auth\/O2\/token/);

    expectNoSecret('a log line', text, secrets);
    expectNoSecret('the simulator trace', trace, secrets);
    expectNoSecret('the simulator records', JSON.stringify(sim.records), secrets);
    expectNoSecret('the inspector stream', page.messages.map((m) => m.data).join('\n'), secrets);
    expectNoSecret('a sender report', JSON.stringify(reports, (_k, v: unknown) => (v instanceof Error ? v.message : v)), secrets);
    expectNoSecret('an error', errors.join('\n'), secrets);
  }, 60_000);
});

describe('the inspector listens on 127.0.0.1 only', () => {
  /** Whether a TCP connection to host:port is accepted. */
  const accepts = (host: string, port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });

  it('binds its server to 127.0.0.1, whatever it is asked, and no other address of the machine reaches it', async () => {
    const servers: import('node:http').Server[] = [];
    const real = nodeHttp.createServer;
    const spy = jest.spyOn(nodeHttp, 'createServer').mockImplementation(((...args: Parameters<typeof real>) => {
      const server = real(...args);
      servers.push(server);
      return server;
    }) as typeof real);
    // An option it does not have is ignored, not obeyed.
    const inspector = await startInspector({ host: '0.0.0.0' } as InspectorOptions);
    spy.mockRestore();
    try {
      expect(servers).toHaveLength(1);
      expect(servers[0].address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: inspector.port });
      expect(inspector.url).toBe(`http://127.0.0.1:${inspector.port}/`);
      expect(await accepts('127.0.0.1', inspector.port)).toBe(true);
      const others = ['127.0.0.2', ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).filter((i) => !i.internal).map((i) => i.address))];
      for (const host of others) expect([host, await accepts(host, inspector.port)]).toEqual([host, false]);
    } finally {
      await inspector.stop();
    }
  });

  it('has no setting for another host: the config refuses inspector.host from a file or the environment', () => {
    expect(() => loadConfig({ env: { AVS_INSPECTOR_HOST: '0.0.0.0' } })).toThrow(/unknown key/);
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ inspector: { host: '0.0.0.0', port: 8080 } }));
    expect(() => loadConfig({ file, env: {} })).toThrow(/inspector\.host: unknown key/);
  });
});

describe('TLS verification cannot be turned off by NODE_TLS_REJECT_UNAUTHORIZED=0', () => {
  it('refuses a server it does not trust on every TLS client: AVS session, LWA, capabilities/one-shot, media, the whole device', async () => {
    const sim = await startSimulator();
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', join(SCRIPTS, 'tls-env.ts'), sim.url, sim.caPath ?? '', sim.defaultToken], {
        cwd: ROOT,
        env: { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect({ code, err }).toEqual({ code: 0, err: '' });
      const r = JSON.parse(out) as Record<string, string>;
      // The variable is in force in that process: Node's own client, without the runtime's options, connects.
      expect(r.env).toBe('0');
      expect(r.nodeDefaultHttps).toMatch(/^connected/);
      // The runtime's clients do not, and say why; trusted (the CA given), the session connects.
      for (const client of ['session', 'oneShot', 'lwaCodePair', 'lwaRefresh', 'mediaFetch', 'device']) {
        expect([client, r[client]]).toEqual([client, expect.stringMatching(/^refused: .*(certificate|issuer)/i)]);
      }
      expect(r.sessionWithCa).toBe('connected');
      // Nothing reached the AVS paths without trust: the only requests are the controls'.
      expect(sim.records.filter((x) => x.path === '/v20160207/directives' && x.status === 200)).toHaveLength(1);
    } finally {
      await sim.stop();
    }
  }, 60_000);
});

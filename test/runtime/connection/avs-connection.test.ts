// End to end over real HTTP/2 + TLS on 127.0.0.1: the device's connection against the simulator.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { filter, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { waitFor } from 'xstate';
import { buildEvent, type ContextEntry } from '../../../machines/catalog';
import type { AvsPart } from '../../../services/multipart';
import { MemoryKeyValueStore } from '../../../services/store/kv';
import { CapabilitiesPublisher, capabilitiesDocument, StaticTokenSource } from '../../../services/transport';
import { AvsConnection, ENDPOINT_KEY } from '../../../runtime/connection/avs-connection';
import { LwaTokenSource } from '../../../services/lwa/refresh';
import { parseScenario, startSimulator, type Simulator } from '../../avs-cloud';

const CONTEXT: ContextEntry[] = [
  { header: { namespace: 'SpeechRecognizer', name: 'RecognizerState' }, payload: { wakeword: 'ALEXA' } },
  { header: { namespace: 'SpeechSynthesizer', name: 'SpeechState' }, payload: { token: '', offsetInMilliseconds: 0, playerActivity: 'FINISHED' } },
  { header: { namespace: 'Alerts', name: 'AlertsState' }, payload: { allAlerts: [], activeAlerts: [] } },
  { header: { namespace: 'AudioPlayer', name: 'PlaybackState' }, payload: { token: '', offsetInMilliseconds: 0, playerActivity: 'IDLE' } },
  { header: { namespace: 'Speaker', name: 'VolumeState' }, payload: { volume: 50, muted: false } },
];

const isConnected = (c: AvsConnection) => waitFor(c.actor, (s) => s.matches({ ONLINE: 'CONNECTED' }), { timeout: 10_000 });

/** A device linked earlier: it holds a refresh token and refreshes over LWA (§12.3) when asked. */
function connectTo(sim: Simulator, extra: Partial<ConstructorParameters<typeof AvsConnection>[0]> = {}) {
  const pair = sim.tokens.issue();
  const tokens = new LwaTokenSource({ clientId: 'client-1', refreshToken: pair.refreshToken, accessToken: pair.accessToken, expiresAt: Date.now() + 3_600_000, url: sim.url, ca: sim.ca });
  const connection = new AvsConnection({
    endpoint: sim.url,
    caFile: sim.caPath,
    tokens,
    context: () => CONTEXT,
    seed: 42,
    maxRetryDelayMs: 300,
    capabilities: new CapabilitiesPublisher({
      document: capabilitiesDocument(),
      token: () => tokens.current(),
      identity: { clientId: 'client-1', productId: 'product-1', deviceSerialNumber: 'dsn-1' },
      store: new MemoryKeyValueStore(),
      ca: sim.ca,
    }),
    ...extra,
  });
  return { connection, tokens };
}

const directiveNamed = (name: string) => (p: AvsPart) => p.kind === 'directive' && p.result.kind === 'ok' && p.result.value.header.name === name;

describe('AvsConnection against the simulator (TLS)', () => {
  let sim: Simulator;
  beforeEach(async () => {
    sim = await startSimulator();
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('publishes capabilities, opens the downchannel, sends SynchronizeState with the full context, then is connected (§1.6, §13)', async () => {
    const { connection } = connectTo(sim);
    connection.start();
    await isConnected(connection);
    expect(sim.capabilities).toHaveLength(1);
    expect(sim.capabilities[0].capabilities.map((c) => c.interface)).toEqual([
      'SpeechRecognizer',
      'SpeechSynthesizer',
      'Alerts',
      'AudioPlayer',
      'PlaybackController',
      'Speaker',
      'Settings',
      'System',
    ]);
    const sync = await sim.waitForEvent('System.SynchronizeState');
    expect(sync.document.context).toEqual(CONTEXT);
    // SynchronizeState went after the downchannel opened, and before any other event (§1.6).
    const kinds = sim.records.map((r) => r.kind).filter((k) => k === 'downchannel' || k === 'event');
    expect(kinds[0]).toBe('event');
    await connection.stop();
  });

  it('hands a downchannel directive to the directive stream at once', async () => {
    const { connection } = connectTo(sim);
    connection.start();
    await isConnected(connection);
    const got = firstValueFrom(connection.directives$.pipe(filter(directiveNamed('SetVolume'))));
    expect(
      sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'push-1' }, payload: { volume: 40 } } }),
    ).toBe('sent');
    const part = await got;
    expect(part.kind === 'directive' && part.result.kind === 'ok' && part.result.value.payload).toEqual({ volume: 40 });
    await connection.stop();
  });

  it('streams Recognize audio as it is captured, gets StopCapture on the downchannel, and the answer as parts (§1.4, §5.5)', async () => {
    const { connection } = connectTo(sim);
    connection.start();
    await isConnected(connection);
    const mic = new PassThrough();
    const message = buildEvent(
      'SpeechRecognizer',
      'Recognize',
      { profile: 'NEAR_FIELD', format: 'AUDIO_L16_RATE_16000_CHANNELS_1', initiator: { type: 'TAP', payload: {} } },
      { context: CONTEXT },
    );
    const stopCapture = firstValueFrom(connection.directives$.pipe(filter(directiveNamed('StopCapture'))));
    const response = connection.sendNow(message, mic);
    const frame = Buffer.alloc(320, 1); // 10 ms of 16 kHz 16-bit mono
    for (let i = 0; i < 5; i++) mic.write(frame);
    // The simulator has the audio chunk by chunk while the microphone is still open.
    const received = await sim.waitForAudio((a) => a.bytes >= 1600, { dialogRequestId: message.event.header.dialogRequestId });
    expect(received.audio?.chunks).toBeGreaterThanOrEqual(1);
    expect(mic.writableEnded).toBe(false);
    // Then the microphone goes quiet: AVS's end of speech → StopCapture (NEAR_FIELD) → close the audio part.
    const stop = await stopCapture;
    expect(stop.kind === 'directive' && stop.result.kind === 'ok' && stop.result.value.header.dialogRequestId).toBe(message.event.header.dialogRequestId);
    mic.end();
    const answer = await response;
    expect(answer.status).toBe(200);
    const parts = await lastValueFrom(answer.parts$.pipe(toArray()));
    expect(parts.some(directiveNamed('Speak'))).toBe(true);
    await connection.stop();
  });

  it('goes on delivering directives after the body of an answer breaks off (truncated or corrupt)', async () => {
    await sim.stop();
    sim = await startSimulator({
      scenario: parseScenario({
        rules: [{ on: 'Speaker.VolumeChanged', directives: [{ directive: { header: { namespace: 'Speaker', name: 'SetMute' }, payload: { mute: true } } }] }],
      }),
    });
    const broken: string[] = [];
    const { connection } = connectTo(sim, { onBodyError: (e) => broken.push(e.message) });
    connection.start();
    await isConnected(connection);
    for (const spoil of [() => sim.faults.truncateNext('event'), () => sim.faults.corruptNext('event', 'framing')]) {
      spoil();
      connection.send(buildEvent('Speaker', 'VolumeChanged', { volume: 20, muted: false }));
      await sim.waitForEvent('Speaker.VolumeChanged', 5000, sim.events().length - 1);
      const next = firstValueFrom(connection.directives$.pipe(filter(directiveNamed('SetVolume'))));
      sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: `after-${broken.length}` }, payload: { volume: 40 } } });
      await next;
    }
    // The truncated body is reported; a spoiled delimiter line may read as data (Go's reading, see
    // the parser) — either way the stream goes on.
    expect(broken[0]).toMatch(/ended inside a part/);
    await connection.stop();
  });

  it('keeps the connection up through every fault, and loses or duplicates no outbox event', async () => {
    await sim.stop();
    const dir = mkdtempSync(join(tmpdir(), 'avs-trace-'));
    const tracePath = join(dir, 'trace.jsonl');
    sim = await startSimulator({ tracePath });
    const sentTokens: string[] = [];
    /** Each waiter returns true once it is satisfied (and is then removed). */
    let waiters: (() => boolean)[] = [];
    const waitUntil = (ok: () => boolean, what: string) =>
      new Promise<void>((resolve, reject) => {
        if (ok()) return resolve();
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
        waiters.push(() => {
          if (!ok()) return false;
          clearTimeout(timer);
          resolve();
          return true;
        });
      });
    const { connection, tokens } = connectTo(sim, {
      pingIdleMs: 400,
      pingTimeoutMs: 400,
      onReport: (r) => {
        if (r.kind === 'sent') sentTokens.push(((r.entry.message as { event: { payload: { token?: string } } }).event.payload.token) ?? '');
        waiters = waiters.filter((w) => !w());
      },
    });
    connection.start();
    await isConnected(connection);
    let n = 0;
    const sent: string[] = [];
    const sendAlert = () => {
      const token = `alert-${++n}`;
      sent.push(token);
      expect(connection.send(buildEvent('Alerts', 'AlertStarted', { token }))).toBe(true);
    };
    let downchannels = 1;
    const reconnected = async () => {
      downchannels++;
      await sim.waitForDownchannel({ nth: downchannels, timeoutMs: 10_000 });
      await isConnected(connection);
    };
    // What AVS (the simulator) accepted, from its own records.
    type Doc = { event: { header: { name: string }; payload: { token?: string } } };
    const accepted = () =>
      sim.records
        .filter((r) => r.kind === 'event' && r.status < 300 && (r.event as Doc | undefined)?.event.header.name === 'AlertStarted')
        .map((r) => (r.event as Doc).event.payload.token);
    // The sender's reports say when AVS accepted an event.
    const delivered = () => {
      const token = sent[sent.length - 1];
      return waitUntil(() => sentTokens.includes(token), `${token} accepted`);
    };

    sendAlert();
    await delivered();

    // A dropped TCP connection, a GOAWAY, a reset and an ended downchannel: reconnect each time,
    // with an event queued while the connection is down.
    for (const fault of [() => sim.faults.dropConnections(), () => sim.faults.goaway(), () => sim.faults.resetDownchannel(), () => sim.faults.endDownchannel()]) {
      fault();
      sendAlert();
      await reconnected();
      sendAlert();
      await delivered();
    }

    // 403 with an expired token: a fresh token from LWA and one retry (§1.5.4).
    const refreshes = () => sim.records.filter((r) => r.kind === 'lwa').length;
    const before = refreshes();
    const oldToken = tokens.current();
    sim.faults.failNext(403);
    sendAlert();
    await delivered();
    expect(refreshes()).toBe(before + 1);
    expect(tokens.current()).not.toBe(oldToken);

    // 429, 503: back off and resend; 500: bounded retry.
    for (const status of [429, 503, 500] as const) {
      sim.faults.failNext(status);
      sendAlert();
      await delivered();
    }

    // A slow answer is still an answer.
    sim.faults.delayNext(300);
    sendAlert();
    await delivered();

    // Pings unanswered: the session is torn down and made anew (§1.9).
    sim.faults.stopPings();
    await reconnected();
    sim.faults.resumePings();
    sendAlert();
    await delivered();

    // A truncated and a corrupt downchannel body: the connection is lost, and made anew.
    sim.faults.truncateNext('downchannel');
    sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetMute', messageId: 'm1' }, payload: { mute: true } } });
    await reconnected();
    sim.faults.corruptNext('downchannel');
    sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetMute', messageId: 'm2' }, payload: { mute: false } } });
    await reconnected();
    sendAlert();
    await delivered();

    // Every event arrived exactly once, in the order it was sent: from the simulator's records,
    // and from its trace file.
    expect(accepted()).toEqual(sent);
    await connection.stop();
    await sim.stop();
    const traced = readFileSync(tracePath, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { kind?: string; status?: number; event?: Doc })
      .filter((r) => r.kind === 'event' && (r.status ?? 0) > 0 && (r.status ?? 0) < 300 && r.event?.event.header.name === 'AlertStarted')
      .map((r) => r.event?.event.payload.token);
    expect(traced).toEqual(sent);
    expect(sent).toHaveLength(16);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('SetEndpoint (§11.3)', () => {
  it('moves the device to the new endpoint, keeps it in the store, and starts there next time', async () => {
    const a = await startSimulator({ h2c: true });
    const b = await startSimulator({ h2c: true });
    const store = new MemoryKeyValueStore();
    const changed: string[] = [];
    // One LWA token serves every region; two simulators each know only their own, so the test
    // switches the token when it switches the endpoint.
    const tokens = new StaticTokenSource(a.defaultToken);
    const connection = new AvsConnection({ endpoint: a.url, tokens, context: () => CONTEXT, seed: 1, store, onEndpointChanged: (e) => changed.push(e) });
    connection.start();
    await isConnected(connection);
    // The runtime's router hands System.SetEndpoint to the connection; here the test does.
    connection.directives$.pipe(filter(directiveNamed('SetEndpoint'))).subscribe((p) => {
      if (p.kind === 'directive' && p.result.kind === 'ok') {
        tokens.set(b.defaultToken);
        connection.setEndpoint((p.result.value.payload as { endpoint: string }).endpoint);
      }
    });
    a.pushDirective({ directive: { header: { namespace: 'System', name: 'SetEndpoint', messageId: 'se-1' }, payload: { endpoint: b.url } } });
    await b.waitForEvent('System.SynchronizeState');
    await isConnected(connection);
    expect(changed).toEqual([b.url]);
    expect(store.get(ENDPOINT_KEY)).toBe(b.url);
    await connection.stop();

    // After a restart the persisted endpoint wins over the configured one.
    const again = new AvsConnection({ endpoint: a.url, tokens, context: () => CONTEXT, seed: 1, store });
    again.start();
    await isConnected(again);
    expect((await b.waitForDownchannel({ nth: 2 })).nth).toBe(2);
    expect(a.records.filter((r) => r.kind === 'downchannel')).toHaveLength(1);
    await again.stop();
    await a.stop();
    await b.stop();
  });
});

describe('stopping', () => {
  it('resolves at once when never started', async () => {
    const connection = new AvsConnection({ endpoint: 'https://127.0.0.1:9', tokens: new StaticTokenSource('t'), context: () => CONTEXT });
    await connection.stop();
  });

  it('leaves nothing connecting behind when stopped while CONNECTING', async () => {
    // A server that accepts the TCP connection and never answers: the attempt hangs in CONNECTING.
    const sockets: Socket[] = [];
    const blackhole = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const port = (blackhole.address() as AddressInfo).port;
    const connection = new AvsConnection({ endpoint: `http://127.0.0.1:${port}`, tokens: new StaticTokenSource('t'), context: () => CONTEXT, connectTimeoutMs: 60_000 });
    connection.start();
    await waitFor(connection.actor, (s) => s.matches({ ONLINE: 'CONNECTING' }));
    await new Promise<void>((r) => (sockets.length > 0 ? r() : blackhole.once('connection', () => r())));
    const closed = new Promise<void>((r) => sockets[0].once('close', () => r()));
    await connection.stop();
    await closed; // the client side went away, long before the 60 s connect timeout
    blackhole.close();
  });
});

describe('SetEndpoint values (§11.3)', () => {
  it('takes a bare host as https, and refuses one that is not usable (nothing changes, nothing crashes)', () => {
    const store = new MemoryKeyValueStore();
    const connection = new AvsConnection({ endpoint: 'https://avs.example', tokens: new StaticTokenSource('t'), context: () => CONTEXT, store });
    connection.actor.start();
    expect(connection.setEndpoint('alexa.eu.gateway.devices.a2z.com')).toBe(true);
    expect(connection.actor.getSnapshot().context.endpoint).toBe('https://alexa.eu.gateway.devices.a2z.com');
    expect(store.get(ENDPOINT_KEY)).toBe('https://alexa.eu.gateway.devices.a2z.com');
    expect(connection.setEndpoint('not a url')).toBe(false);
    expect(connection.setEndpoint('ftp://x.example')).toBe(false);
    expect(connection.actor.getSnapshot().context.endpoint).toBe('https://alexa.eu.gateway.devices.a2z.com');
    connection.actor.stop();
    // A stored value that is not usable is ignored at the next start.
    store.set(ENDPOINT_KEY, 'not a url');
    const again = new AvsConnection({ endpoint: 'https://avs.example', tokens: new StaticTokenSource('t'), context: () => CONTEXT, store });
    expect(again.actor.getSnapshot().context.endpoint).toBe('https://avs.example');
  });
});

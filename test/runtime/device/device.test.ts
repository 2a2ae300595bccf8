// End to end: createDevice against the simulator over real HTTP/2 + TLS on 127.0.0.1 — the
// directive pipeline (§4.4), ExceptionEncountered for everything that cannot be carried out
// (§2.2, §11.4), context built from the machines (§2.3), persistence, and the System, Speaker and
// Settings machines (§10, §11).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Observable, filter, firstValueFrom } from 'rxjs';
import { NullOutput } from '../../../drivers/audio-output/null-output';
import { createLogger, silentLogger } from '../../../services/log/logger';
import { StaticTokenSource } from '../../../services/transport';
import { createDevice, DeviceConfigError, type Device, type DeviceConfig } from '../../../runtime/device/device';
import type { DirectiveHandler } from '../../../runtime/pipeline/handlers';
import { startSimulator, type Simulator } from '../../avs-cloud';
import type { ReceivedEvent } from '../../avs-cloud/recorder';

let sim: Simulator;
let dir: string;
const devices: Device[] = [];

beforeEach(async () => {
  sim = await startSimulator();
  dir = mkdtempSync(join(tmpdir(), 'avs-device-'));
});
afterEach(async () => {
  for (const d of devices.splice(0)) await d.stop();
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

function device(extra: Partial<DeviceConfig> = {}): Device {
  const d = createDevice({
    endpoint: sim.url,
    caFile: sim.caPath,
    tokens: new StaticTokenSource(sim.defaultToken),
    logger: process.env.AVS_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger(),
    seed: 7,
    maxRetryDelayMs: 300,
    ...extra,
  });
  devices.push(d);
  return d;
}

let n = 0;
const directive = (namespace: string, name: string, payload: object, dialogRequestId?: string) => ({
  directive: { header: { namespace, name, messageId: `m-${++n}`, ...(dialogRequestId ? { dialogRequestId } : {}) }, payload },
});

/** Events of a name received from index `from` on. */
const eventsNamed = (name: string, from = 0): ReceivedEvent[] => sim.receivedEvents().slice(from).filter((e) => e.name === name);
const volumeIn = (e: ReceivedEvent) => (e.document.context as { header: { name: string }; payload: { volume: number; muted: boolean } }[]).find((c) => c.header.name === 'VolumeState')?.payload;

describe('createDevice against the simulator', () => {
  it('connects, publishes the interfaces it carries out, and synchronizes with the context of its machines (§1.6, §2.3, §13)', async () => {
    const d = device({ initialVolume: 35, capabilities: { identity: { clientId: 'c', productId: 'p', deviceSerialNumber: 's' } } });
    await d.whenConnected();
    expect(sim.capabilities.at(-1)?.capabilities.map((c) => c.interface)).toEqual(['SpeechRecognizer', 'SpeechSynthesizer', 'Alerts', 'AudioPlayer', 'PlaybackController', 'Speaker', 'Settings', 'System']);
    const sync = await sim.waitForEvent('System.SynchronizeState');
    expect(sync.document.context).toEqual(d.context());
    expect(volumeIn(sync)).toEqual({ volume: 35, muted: false });
  });

  it('refuses a config it cannot start with, naming the key', () => {
    expect(() => createDevice({ endpoint: 'ftp://x', tokens: new StaticTokenSource('t'), logger: silentLogger() })).toThrow(DeviceConfigError);
    expect(() => createDevice({ endpoint: sim.url, tokens: new StaticTokenSource('t'), locale: 'english', logger: silentLogger() })).toThrow(/config\.locale/);
  });

  it('carries out Speaker directives from the downchannel: output driven, VolumeChanged / MuteChanged sent (§10)', async () => {
    const output = new NullOutput();
    const d = device({ drivers: { output } });
    await d.whenConnected();
    sim.pushDirective(directive('Speaker', 'SetVolume', { volume: 40 }));
    expect((await sim.waitForEvent('Speaker.VolumeChanged')).document.event.payload).toEqual({ volume: 40, muted: false });
    sim.pushDirective(directive('Speaker', 'AdjustVolume', { volume: -15 }));
    await sim.waitForEvent((e) => e.name === 'Speaker.VolumeChanged' && e.document.event.payload.volume === 25);
    sim.pushDirective(directive('Speaker', 'SetMute', { mute: true }));
    expect((await sim.waitForEvent('Speaker.MuteChanged')).document.event.payload).toEqual({ volume: 25, muted: true });
    expect(output).toMatchObject({ volume: 25, muted: true });
    expect(d.context()).toContainEqual({ header: { namespace: 'Speaker', name: 'VolumeState' }, payload: { volume: 25, muted: true } });
  });

  it('answers every malformed or unsupported directive with exactly one ExceptionEncountered, and goes on (§2.2, §11.4)', async () => {
    const d = device();
    await d.whenConnected();
    const bad: [string, string][] = [
      ['{"directive":{"header":{"namespace":"Speaker","name":"SetVolume","messageId":"x1"},"payload":', 'UNEXPECTED_INFORMATION_RECEIVED'],
      ['{"directive":{"payload":{}}}', 'UNEXPECTED_INFORMATION_RECEIVED'],
      ['{"directive":{"header":{"namespace":"Speaker","name":"SetVolume"},"payload":{"volume":10}}}', 'UNEXPECTED_INFORMATION_RECEIVED'],
      ['{"directive":{"header":{"namespace":"Speaker","name":"SetVolume","messageId":"x2"},"payload":[]}}', 'UNEXPECTED_INFORMATION_RECEIVED'],
      ['{"directive":{"header":{"namespace":"Speaker","name":"SetVolume","messageId":"x3"},"payload":{"volume":150}}}', 'UNEXPECTED_INFORMATION_RECEIVED'],
      ['{"directive":{"header":{"namespace":"Speaker","name":"SetVolume","messageId":"x4"},"payload":{"volume":"50"}}}', 'UNEXPECTED_INFORMATION_RECEIVED'],
      ['{"directive":{"header":{"namespace":"System","name":"SetEndpoint","messageId":"x5"},"payload":{}}}', 'UNEXPECTED_INFORMATION_RECEIVED'],
      ['{"directive":{"header":{"namespace":"Doorbell","name":"Ring","messageId":"x6"},"payload":{}}}', 'UNSUPPORTED_OPERATION'],
      ['{"directive":{"header":{"namespace":"Speaker","name":"Explode","messageId":"x7"},"payload":{}}}', 'UNSUPPORTED_OPERATION'],
      ['{"directive":{"header":{"namespace":"System","name":"ReportSoftwareInfo","messageId":"x8"},"payload":{}}}', 'UNSUPPORTED_OPERATION'],
      ['{"directive":{"header":{"namespace":"Notifications","name":"SetIndicator","messageId":"x9"},"payload":{}}}', 'UNSUPPORTED_OPERATION'],
    ];
    let volume = 10;
    for (const [text, type] of bad) {
      const from = sim.receivedEvents().length;
      sim.pushDirective(text);
      volume += 1;
      sim.pushDirective(directive('Speaker', 'SetVolume', { volume }));
      // The valid directive after it is carried out…
      const changed = await sim.waitForEvent((e) => e.name === 'Speaker.VolumeChanged' && e.document.event.payload.volume === volume, 5000, from);
      // …and before it, exactly one ExceptionEncountered with the directive as received.
      const exceptions = sim.receivedEvents().slice(from, changed.index).filter((e) => e.name === 'System.ExceptionEncountered');
      expect(exceptions).toHaveLength(1);
      expect(exceptions[0].document.event.payload).toMatchObject({ unparsedDirective: text, error: { type } });
      expect(exceptions[0].decode).toBe('ok');
      // Its context is the one of the moment it was posted: before or after the SetVolume that followed.
      expect([volume - 1, volume]).toContain(volumeIn(exceptions[0])?.volume);
    }
    expect(eventsNamed('System.ExceptionEncountered')).toHaveLength(bad.length);
  });

  it('every event that carries context carries the state of the machines at that moment (§2.1, §2.3)', async () => {
    const d = device();
    await d.whenConnected();
    const steps: (() => void)[] = [
      () => d.setVolume(10),
      () => d.setMuted(true),
      () => sim.pushDirective(directive('Speaker', 'AdjustVolume', { volume: 25 })),
      () => d.setMuted(true),
      () => sim.pushDirective(directive('Speaker', 'SetMute', { mute: true })),
      () => d.adjustVolume(-100),
    ];
    for (const step of steps) {
      const from = sim.receivedEvents().length;
      step();
      await sim.waitForEvent((e) => e.name === 'Speaker.VolumeChanged' || e.name === 'Speaker.MuteChanged', 5000, from);
      // An unsupported directive makes the device send an event with context now.
      sim.pushDirective(directive('Doorbell', 'Ring', {}));
      const exception = await sim.waitForEvent('System.ExceptionEncountered', 5000, from);
      expect(exception.decode).toBe('ok');
      expect(exception.document.context).toEqual(d.context());
    }
    // Events without context carry none (§2.1).
    for (const e of sim.receivedEvents().filter((e) => e.name.startsWith('Speaker.'))) expect(e.document.context).toBeUndefined();
    expect(d.context()).toContainEqual({ header: { namespace: 'Speaker', name: 'VolumeState' }, payload: { volume: 0, muted: false } });
  });

  it('logs a System.Exception from AVS and never answers it (§11.3)', async () => {
    const d = device();
    await d.whenConnected();
    const seen = firstValueFrom(d.exceptions$);
    sim.pushDirective(directive('System', 'Exception', { code: 'THROTTLING_EXCEPTION', description: 'slow down' }));
    expect(await seen).toEqual({ code: 'THROTTLING_EXCEPTION', description: 'slow down' });
    sim.pushDirective(directive('Speaker', 'SetVolume', { volume: 12 }));
    await sim.waitForEvent('Speaker.VolumeChanged');
    expect(eventsNamed('System.ExceptionEncountered')).toHaveLength(0);
  });

  it('holds a dialog behind a blocking directive, runs independent ones beside it, drops old dialogs, and cancels on a new dialog (§4.4)', async () => {
    // A stand-in SpeechSynthesizer whose Speak blocks until the test lets it finish.
    const speaking = new Map<string, { finish: () => void; cancelled: boolean }>();
    const synthesizer: DirectiveHandler = {
      namespace: 'SpeechSynthesizer',
      handle: (d) =>
        new Observable<void>((sub) => {
          const entry = { finish: () => sub.complete(), cancelled: false };
          speaking.set(d.header.messageId, entry);
          return () => {
            entry.cancelled = true;
          };
        }),
    };
    const d = device({ handlers: [synthesizer] });
    await d.whenConnected();
    const outcomes: string[] = [];
    d.pipeline.outcomes$.subscribe((o) => outcomes.push(`${o.kind}:${o.item.messageId}`));
    const speak = (id: string, dialog: string) => ({
      directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak', messageId: id, dialogRequestId: dialog }, payload: { url: 'cid:a', format: 'AUDIO_MPEG', token: id } },
    });
    d.pipeline.startDialog('D1');
    sim.pushDirective(speak('speak-1', 'D1'));
    sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'after-speak', dialogRequestId: 'D1' }, payload: { volume: 60 } } });
    sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'old-dialog', dialogRequestId: 'D0' }, payload: { volume: 99 } } });
    sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'independent' }, payload: { volume: 20 } } });
    // The independent one goes past the blocked dialog; the old dialog's is dropped without a word.
    await sim.waitForEvent((e) => e.name === 'Speaker.VolumeChanged' && e.document.event.payload.volume === 20);
    expect(outcomes).toEqual(['dropped:old-dialog', 'done:independent']);
    expect(speaking.has('speak-1')).toBe(true);
    speaking.get('speak-1')?.finish();
    await sim.waitForEvent((e) => e.name === 'Speaker.VolumeChanged' && e.document.event.payload.volume === 60);
    expect(outcomes).toEqual(['dropped:old-dialog', 'done:independent', 'done:speak-1', 'done:after-speak']);

    // A new dialog cancels what runs and waits.
    d.pipeline.startDialog('D2');
    sim.pushDirective(speak('speak-2', 'D2'));
    sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'waiting', dialogRequestId: 'D2' }, payload: { volume: 70 } } });
    await firstValueFrom(d.directives$.pipe(filter((i) => i.messageId === 'waiting')));
    d.pipeline.startDialog('D3');
    expect(speaking.get('speak-2')?.cancelled).toBe(true);
    expect(outcomes.slice(-2)).toEqual(['cancelled:speak-2', 'cancelled:waiting']);
    sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'late', dialogRequestId: 'D2' }, payload: { volume: 80 } } });
    sim.pushDirective(directive('Speaker', 'SetVolume', { volume: 21 }));
    await sim.waitForEvent((e) => e.name === 'Speaker.VolumeChanged' && e.document.event.payload.volume === 21);
    expect(eventsNamed('Speaker.VolumeChanged').map((e) => e.document.event.payload.volume)).toEqual([20, 60, 21]);
    expect(eventsNamed('System.ExceptionEncountered')).toHaveLength(0);
  });

  it('a malformed directive of the current dialog fails the dialog: the rest of it is not carried out (§4.4 step 4)', async () => {
    const d = device();
    await d.whenConnected();
    d.pipeline.startDialog('D1');
    sim.pushDirective('{"directive":{"header":{"namespace":"Speaker","name":"SetVolume","messageId":"b1","dialogRequestId":"D1"},"payload":{"volume":-3}}}');
    sim.pushDirective({ directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'b2', dialogRequestId: 'D1' }, payload: { volume: 33 } } });
    sim.pushDirective(directive('Speaker', 'SetVolume', { volume: 44 }));
    await sim.waitForEvent((e) => e.name === 'Speaker.VolumeChanged' && e.document.event.payload.volume === 44);
    expect(eventsNamed('System.ExceptionEncountered')).toHaveLength(1);
    expect(eventsNamed('Speaker.VolumeChanged').map((e) => e.document.event.payload.volume)).toEqual([44]);
    expect(d.pipeline.dialogRequestId).toBeUndefined();
  });

  it('keeps volume, mute and locale across a restart in its database', async () => {
    const database = join(dir, 'device.db');
    const first = device({ database });
    await first.whenConnected();
    first.setVolume(30);
    first.setMuted(true);
    first.setLocale('de-DE');
    await sim.waitForEvent('Settings.SettingsUpdated');
    await sim.waitForEvent('Speaker.MuteChanged');
    await first.stop();

    const from = sim.receivedEvents().length;
    const output = new NullOutput();
    const second = device({ database, drivers: { output } });
    expect(output).toMatchObject({ volume: 30, muted: true });
    expect(second.locale).toBe('de-DE');
    await second.whenConnected();
    const sync = await sim.waitForEvent('System.SynchronizeState', 5000, from);
    expect(volumeIn(sync)).toEqual({ volume: 30, muted: true });
  });

  it('reports a local locale change, and keeps the previous one when AVS refuses it (§11.1)', async () => {
    const d = device({ locale: 'en-US' });
    await d.whenConnected();
    await sim.waitForEvent('Settings.SettingsUpdated'); // the first connect tells AVS the locale
    expect(() => d.setLocale('klingon')).toThrow(DeviceConfigError);
    sim.faults.failNext(500, { count: 3, target: 'event' });
    d.setLocale('fr-FR');
    expect(d.locale).toBe('fr-FR');
    await firstValueFrom(d.reports$.pipe(filter((r) => r.kind === 'refused')));
    expect(d.locale).toBe('en-US');
  });

  it('SetEndpoint moves the device to the new endpoint and remembers it (§11.3)', async () => {
    const a = await startSimulator({ h2c: true });
    const b = await startSimulator({ h2c: true });
    try {
      const database = join(dir, 'device.db');
      // One LWA token serves every region; each simulator knows only its own, so the token follows the endpoint.
      const tokens = new StaticTokenSource(a.defaultToken);
      const d = device({ endpoint: a.url, caFile: undefined, database, tokens });
      d.directives$.pipe(filter((i) => i.name === 'SetEndpoint')).subscribe(() => tokens.set(b.defaultToken));
      await d.whenConnected();
      a.pushDirective(directive('System', 'SetEndpoint', { endpoint: b.url }));
      await b.waitForEvent('System.SynchronizeState', 10_000);
      await d.stop();
      const again = device({ endpoint: a.url, caFile: undefined, database, tokens });
      await again.whenConnected();
      expect(b.events().filter((e) => e.event.header.name === 'SynchronizeState')).toHaveLength(2);
      expect(a.events().filter((e) => e.event.header.name === 'SynchronizeState')).toHaveLength(1);
    } finally {
      for (const d of devices.splice(0)) await d.stop();
      await a.stop();
      await b.stop();
    }
  });

  it('reports user inactivity, in whole hours, on its interval (§11.2)', async () => {
    const d = device({ inactivityReportMs: 150 });
    await d.whenConnected();
    const report = await sim.waitForEvent('System.UserInactivityReport');
    expect(report.document.event.payload).toEqual({ inactiveTimeInSeconds: 0 });
    expect(report.document.context).toBeUndefined();
  });

  it('an inactivity interval longer than a node timer holds (2^31-1 ms) waits, instead of firing at once (found by the soak)', async () => {
    const d = device({ inactivityReportMs: 10 * 365 * 24 * 3600_000 });
    await d.whenConnected();
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.events().filter((e) => e.event.header.name === 'UserInactivityReport')).toEqual([]);
  });

  it('derives the attention state from its machines', async () => {
    const d = device();
    const seen: string[] = [];
    d.attention$.subscribe((a) => seen.push(a));
    await d.whenConnected();
    expect(seen[0]).toBe('IDLE');
  });
});

// The inspector page in a real browser (Debian's chromium through playwright-core), following a
// real device that talks to the simulator over HTTP/2: every machine has its chart, and the
// highlighted states follow a spoken dialog.
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor } from 'xstate';
import { RecordingOutput } from '../../../drivers/audio-output/recording-output';
import { FileMicrophone } from '../../../drivers/microphone/file-microphone';
import { silentLogger } from '../../../services/log/logger';
import { StaticTokenSource } from '../../../services/transport';
import { createDevice, type Device } from '../../../runtime/device/device';
import { DEVICE_MACHINES } from '../../../runtime/inspector/chart';
import { inspectDevice } from '../../../runtime/inspector/device';
import { startInspector, type Inspector } from '../../../runtime/inspector/server';
import { parseScenario, startSimulator, type Simulator } from '../../avs-cloud';

const WAV = join(__dirname, '..', '..', 'fixtures', 'audio', 'what-time-is-it.wav');
const WAIT = { timeout: 30_000 };

/** One question, answered by a short Speak. */
const SCENARIO = parseScenario({
  answers: {
    answer: {
      directives: [{ directive: { header: { namespace: 'SpeechSynthesizer', name: 'Speak' }, payload: { url: 'cid:tts', format: 'AUDIO_MPEG', token: 'tts-answer' } } }],
      attachments: { tts: { silenceMs: 500 } },
    },
  },
  rules: [{ on: 'SpeechRecognizer.Recognize', answer: 'answer' }],
});

/** The SVG element of a state in an actor's panel, when it is highlighted. */
const highlighted = (actor: string, state: string) => `.panel[data-actor="${actor}"] [id="state:${state}"].active`;

/**
 * Runs in the page: notes every state that gets highlighted, as "<actor> <state id>", so a state
 * that is highlighted only briefly is still seen (a condition polled later could miss it).
 */
const RECORD_HIGHLIGHTS = `
  window.highlights = [];
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target;
      if (!el.classList.contains('active') || !el.id.startsWith('state:')) continue;
      const panel = el.closest('[data-actor]');
      window.highlights.push((panel ? panel.dataset.actor : '?') + ' ' + el.id.slice(6));
    }
  }).observe(document.getElementById('panels'), { subtree: true, attributes: true, attributeFilter: ['class'] });
`;
/** What RECORD_HIGHLIGHTS leaves in the page (this file has no DOM types: its lib is ES2022). */
declare const window: { highlights: string[] };
// A function, not a string: the page's CSP (no 'unsafe-eval') refuses Playwright's string predicates.
const seen = (page: Page, entry: string) => page.waitForFunction((e) => window.highlights.includes(e), entry, WAIT);

let browser: Browser;
let sim: Simulator;
let inspector: Inspector;
let device: Device;
let feed: { unsubscribe(): void };
let page: Page;

beforeAll(async () => {
  // Root in a container has no user namespaces for chromium's sandbox.
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new'] });
});
afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  sim = await startSimulator({ scenario: SCENARIO, stopCapture: { idleMs: 300, afterAudioMs: 600 } });
  inspector = await startInspector();
  device = createDevice({
    endpoint: sim.url,
    caFile: sim.caPath,
    tokens: new StaticTokenSource(sim.defaultToken),
    logger: silentLogger(),
    seed: 3,
    drivers: { microphone: new FileMicrophone(WAV, { then: 'silence' }), output: new RecordingOutput() },
    inspect: inspector.inspect,
  });
  feed = inspectDevice(inspector, device);
  page = await browser.newPage();
  await page.goto(inspector.url);
  await page.locator('body[data-ready="true"]').waitFor({ state: 'attached', ...WAIT });
});
afterEach(async () => {
  await page?.close();
  feed?.unsubscribe();
  await device?.stop();
  await inspector?.stop();
  await sim?.stop();
});

describe('the inspector page, following a device', () => {
  it('shows the chart of every machine, each actor of the device in its own panel', async () => {
    for (const name of Object.keys(DEVICE_MACHINES)) {
      await page.locator(`.machine[data-machine="${name}"] .panel svg`).first().waitFor({ state: 'attached', ...WAIT });
    }
    for (const actor of ['focus', 'attention', 'system', 'speaker', 'settings', 'speechRecognizer', 'speechSynthesizer', 'audioPlayer', 'playbackController', 'alerts']) {
      await page.locator(`.machine[data-machine="${actor}"] .panel[data-actor="${actor}"] svg`).waitFor({ state: 'visible', ...WAIT });
    }
    // The connection runs outside the device's actor system: inspectDevice watches it.
    await device.whenConnected();
    await page.locator(highlighted('connection', 'connection.ONLINE.CONNECTED')).waitFor(WAIT);
    // No alert is set and the tokens are static: those two show their bare charts.
    await page.locator('.machine[data-machine="alert"] .panel.placeholder svg').waitFor({ state: 'visible', ...WAIT });
    await page.locator('.machine[data-machine="authorization"] .panel.placeholder svg').waitFor({ state: 'visible', ...WAIT });
    expect(await page.locator('.panel[data-actor="speaker"] .state').textContent()).toMatch(/AUDIBLE/);
  });

  it('moves the highlight from IDLE to RECOGNIZING / LISTENING on a tap, and back to IDLE after the dialog', async () => {
    await device.whenConnected();
    await page.locator(highlighted('speechRecognizer', 'speechRecognizer.IDLE')).waitFor(WAIT);
    await page.locator(highlighted('attention', 'attention.IDLE')).waitFor(WAIT);
    await page.evaluate(RECORD_HIGHLIGHTS);

    device.tap();
    await seen(page, 'speechRecognizer speechRecognizer.RECOGNIZING');
    await seen(page, 'attention attention.LISTENING');

    await sim.waitForEvent('SpeechSynthesizer.SpeechFinished', 30_000);
    await waitFor(device.actors.attention, (s) => s.matches('IDLE'), WAIT);
    await waitFor(device.actors.speechRecognizer, (s) => s.matches('IDLE'), WAIT);
    await page.locator(highlighted('attention', 'attention.IDLE')).waitFor(WAIT);
    await page.locator(highlighted('speechRecognizer', 'speechRecognizer.IDLE')).waitFor(WAIT);
    expect(await page.locator(highlighted('speechRecognizer', 'speechRecognizer.RECOGNIZING')).count()).toBe(0);
    expect(await page.locator(highlighted('attention', 'attention.LISTENING')).count()).toBe(0);

    // In order: IDLE again only after LISTENING, with THINKING and SPEAKING between.
    const highlights = (await page.evaluate('window.highlights')) as string[];
    const at = (entry: string) => highlights.indexOf(entry);
    expect(at('attention attention.LISTENING')).toBeLessThan(at('attention attention.THINKING'));
    expect(at('attention attention.THINKING')).toBeLessThan(at('attention attention.SPEAKING'));
    expect(highlights.lastIndexOf('attention attention.IDLE')).toBeGreaterThan(at('attention attention.SPEAKING'));
    expect(highlights).toContain('speechRecognizer speechRecognizer.RECOGNIZING.STREAMING');
  });

  it('gives each live alert a panel of its own on the alert chart, and drops it when the alert ends', async () => {
    await device.whenConnected();
    // Due at the next whole second (AVS times have no milliseconds): it rings at once.
    const scheduledTime = new Date(Math.ceil(Date.now() / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, '+0000');
    sim.pushDirective({ directive: { header: { namespace: 'Alerts', name: 'SetAlert', messageId: 'set-alert-1' }, payload: { token: 'inspected', type: 'TIMER', scheduledTime } } });
    const panel = page.locator('.panel[data-machine="alert"][data-actor="alert:inspected"]');
    await panel.locator('[id="state:alert.ACTIVE.FOREGROUND"].active').waitFor(WAIT);
    await page.locator('.panel[data-machine="alert"].placeholder').waitFor({ state: 'hidden', ...WAIT });
    await page.locator(highlighted('alerts', 'alerts.ALERTING')).waitFor(WAIT);
    device.stopAlert();
    await panel.waitFor({ state: 'detached', ...WAIT });
    await page.locator('.panel[data-machine="alert"].placeholder svg').waitFor({ state: 'visible', ...WAIT });
    await page.locator(highlighted('alerts', 'alerts.IDLE')).waitFor(WAIT);
  });

  it('lists directives, events and state changes newest first; clicking one shows its JSON', async () => {
    await device.whenConnected();
    device.tap();
    await sim.waitForEvent('SpeechSynthesizer.SpeechFinished', 30_000);
    const speak = page.locator('#timeline li.directive', { hasText: 'SpeechSynthesizer.Speak' });
    await speak.waitFor(WAIT);
    const recognize = page.locator('#timeline li.event', { hasText: 'SpeechRecognizer.Recognize' });
    await recognize.waitFor(WAIT);
    await page.locator('#timeline li.event', { hasText: 'SpeechSynthesizer.SpeechFinished' }).waitFor(WAIT);
    await page.locator('#timeline li.state', { hasText: 'speechRecognizer: RECOGNIZING' }).first().waitFor(WAIT);
    // Newest first: the answer's Speak is above the Recognize that asked for it.
    const seqOf = async (l: typeof speak) => Number(await l.first().getAttribute('data-seq'));
    const order = await Promise.all((await page.locator('#timeline li').all()).map(async (li) => Number(await li.getAttribute('data-seq'))));
    expect(order).toEqual([...order].sort((a, b) => b - a));
    expect(await seqOf(speak)).toBeGreaterThan(await seqOf(recognize));

    await speak.first().click();
    await page.locator('#detail-title', { hasText: 'directive SpeechSynthesizer.Speak' }).waitFor(WAIT);
    const shown = JSON.parse((await page.locator('#detail-json').textContent()) ?? 'null') as { directive: { header: { name: string }; payload: { token: string } } };
    expect(shown.directive.header.name).toBe('Speak');
    expect(shown.directive.payload.token).toBe('tts-answer');

    await recognize.first().click();
    await page.locator('#detail-title', { hasText: 'event SpeechRecognizer.Recognize' }).waitFor(WAIT);
    expect(await page.locator('#detail-json').textContent()).toContain('"profile": "NEAR_FIELD"');
  });
});

// `avs run` and `avs sim` as child processes, and the command line's errors.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { avs } from '../../support/cli';
import { startSimulator, type Simulator } from '../../avs-cloud';

const ROOT = join(__dirname, '..', '..', '..');
const AVS = join(ROOT, 'runtime', 'cli', 'avs.js');
const WAV = join(ROOT, 'test', 'fixtures', 'audio', 'what-time-is-it.wav');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'avs-run-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves once the output holds `text`. */
function outputOf(child: ReturnType<typeof spawn>) {
  let out = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    for (const w of waiters.splice(0)) if (out.includes(w.text)) w.resolve();
    else waiters.push(w);
  });
  child.stderr?.resume();
  return {
    get text() {
      return out;
    },
    waitFor: (text: string) => new Promise<void>((resolve) => (out.includes(text) ? resolve() : waiters.push({ text, resolve }))),
  };
}

describe('avs run', () => {
  let sim: Simulator;
  beforeEach(async () => {
    sim = await startSimulator();
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('runs the device against the simulator with a WAV as the microphone: a tap is answered; q stops it cleanly', async () => {
    const child = spawn(
      process.execPath,
      [AVS, 'run', '--endpoint', sim.url, '--ca-file', sim.caPath ?? '', '--token', sim.defaultToken, '--database', join(dir, 'device.db'), '--microphone-file', WAV, '--no-sound'],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, AVS_CONFIG: join(dir, 'none.json') } },
    );
    const out = outputOf(child);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await out.waitFor('q      quit');
    await out.waitFor('s  connected');
    child.stdin?.write(' ');
    await out.waitFor('→ SpeechSynthesizer.SpeechFinished');
    child.stdin?.write('q');
    expect(await exited).toBe(0);
    expect(out.text).toMatch(/attention {2}LISTENING[\s\S]*→ SpeechRecognizer\.Recognize[\s\S]*← SpeechSynthesizer\.Speak[\s\S]*→ SpeechSynthesizer\.SpeechStarted/);
    expect(out.text).toMatch(/avs run: stopped/);
  });

  it('Ctrl-C (SIGINT) stops it cleanly too', async () => {
    const child = spawn(process.execPath, [AVS, 'run', '--endpoint', sim.url, '--ca-file', sim.caPath ?? '', '--token', sim.defaultToken, '--database', join(dir, 'device.db'), '--microphone-file', WAV, '--no-sound'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, AVS_CONFIG: join(dir, 'none.json') },
    });
    const out = outputOf(child);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await sim.waitForEvent('System.SynchronizeState');
    await out.waitFor('q      quit');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out.text).toMatch(/avs run: stopped/);
  });
});

describe('avs sim', () => {
  it('runs the simulator alone, prints where it listens and its CA, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [AVS, 'sim', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = outputOf(child);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await out.waitFor('\nca ');
    expect(out.text).toMatch(/^listening https:\/\/localhost:\d+\nca \S+ca\.pem/m);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('the command line', () => {
  it('bad flags exit 2 with a clear message', async () => {
    const r = await avs('run', '--bogus');
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/avs run: .*bogus/);
    const t = await avs('login', '--timeout', 'soon');
    expect(t.code).toBe(2);
  });

  it('a bad config file names the bad key', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ avs: { endpoint: 'https://avs.example' }, log: { level: 'loud' } }));
    const r = await avs('run', '--config', file, '--token', 't');
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/config log\.level: expected .*got "loud" \(from file /);
  });

  it('avs run without tokens or LWA settings says what to do (exit 2)', async () => {
    const r = await avs('run', '--config', join(dir, 'missing.json'));
    expect(r.code).toBe(2);
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ avs: { endpoint: 'https://avs.example' } }));
    const s = await avs('run', '--config', file);
    expect(s.code).toBe(2);
    expect(s.err.join('\n')).toMatch(/--token|avs login/);
  });
});

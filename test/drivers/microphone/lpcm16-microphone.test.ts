// These run the real sox: ensure-deps (npm test's pretest) installs it, and without it they fail
// with PROGRAM_MISSING rather than being skipped. There is no sound card here; ALSA's `null`
// device (AUDIODRIVER=alsa, device null) delivers zeros as fast as they are read.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { record } from 'node-record-lpcm16';
import { Lpcm16Microphone } from '../../../drivers/microphone/lpcm16-microphone';
import { MicrophoneError } from '../../../drivers/microphone/microphone';
import { collect, failureOf, expectReopenStopsPrevious } from './capture-helpers';

// The real library, watched: the test needs the recorder process to see it exit.
jest.mock('node-record-lpcm16', () => {
  const actual = jest.requireActual<typeof import('node-record-lpcm16')>('node-record-lpcm16');
  return { record: jest.fn(actual.record) };
});

/** Resolves with how the latest recorder process exited, once it has. */
function recorderExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const latest = jest.mocked(record).mock.results.at(-1);
  if (latest?.type !== 'return') throw new Error('no recorder was started');
  const child = latest.value.process;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

const NULL_DEVICE = { device: 'null', env: { AUDIODRIVER: 'alsa' } } as const;

function openError(mic: Lpcm16Microphone): MicrophoneError {
  try {
    mic.open().stop();
  } catch (error) {
    if (error instanceof MicrophoneError) return error;
    throw error;
  }
  throw new Error('open() succeeded');
}

describe('Lpcm16Microphone with sox', () => {
  it('captures 16-bit samples until stop(), then ends', async () => {
    const capture = new Lpcm16Microphone({ ...NULL_DEVICE, gain: -3 }).open();
    let bytes = 0;
    capture.stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes >= 32_000) capture.stop();
    });
    const chunks = await collect(capture.stream);
    const all = Buffer.concat(chunks);
    expect(all.length).toBeGreaterThanOrEqual(32_000);
    expect(all.length % 2).toBe(0);
    // Silence from the null device, give or take the one-bit dither sox adds when it converts.
    let loudest = 0;
    for (let i = 0; i < all.length; i += 2) loudest = Math.max(loudest, Math.abs(all.readInt16LE(i)));
    expect(loudest).toBeLessThanOrEqual(1);
    await recorderExit();
  });

  it('ends when stopped before anything was read', async () => {
    const capture = new Lpcm16Microphone(NULL_DEVICE).open();
    capture.stop();
    await collect(capture.stream);
    await recorderExit();
  });

  it('stops the recorder when the reader destroys the stream', async () => {
    const capture = new Lpcm16Microphone(NULL_DEVICE).open();
    capture.stream.destroy();
    await new Promise((resolve) => capture.stream.once('close', resolve));
    expect(await recorderExit()).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('fails the stream with CAPTURE_FAILED, in sox’s words, when the device does not exist', async () => {
    const capture = new Lpcm16Microphone({ device: 'no-such-device', env: { AUDIODRIVER: 'alsa' } }).open();
    const error = await failureOf(capture.stream);
    expect(error).toBeInstanceOf(MicrophoneError);
    expect(error).toMatchObject({ code: 'CAPTURE_FAILED' });
    expect(error).toHaveProperty('message', expect.stringMatching(/^sox failed: .*no-such-device.*\(exit status \d+\)$/));
  });

  it('stops the previous capture when opened again', async () => {
    const mic = new Lpcm16Microphone(NULL_DEVICE);
    await expectReopenStopsPrevious(mic);
  });
});

describe('Lpcm16Microphone with a recorder that cannot run', () => {
  let dir: string;
  beforeAll(() => {
    // On PATH and executable, so it passes the check, but its interpreter does not exist:
    // spawn() fails with ENOENT, which the library does not listen for.
    dir = mkdtempSync(join(tmpdir(), 'lpcm16-'));
    writeFileSync(join(dir, 'sox'), '#!/nonexistent/interpreter\n', { mode: 0o755 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails the stream with CAPTURE_FAILED instead of crashing', async () => {
    const capture = new Lpcm16Microphone({ env: { PATH: dir } }).open();
    const error = await failureOf(capture.stream);
    expect(error).toBeInstanceOf(MicrophoneError);
    expect(error).toMatchObject({ code: 'CAPTURE_FAILED', message: 'sox failed: spawn sox ENOENT (it did not start)' });
  });
});

describe('Lpcm16Microphone without its recorder', () => {
  const NO_PROGRAMS = { env: { PATH: '/nonexistent' } };

  it.each([
    ['sox', 'sox is not installed: apt-get install sox'],
    ['rec', 'rec is not installed: apt-get install sox'],
    ['arecord', 'arecord is not installed: apt-get install alsa-utils'],
  ] as const)('throws PROGRAM_MISSING naming %s and its Debian package', (recorder, message) => {
    const error = openError(new Lpcm16Microphone({ ...NO_PROGRAMS, recorder }));
    expect(error.code).toBe('PROGRAM_MISSING');
    expect(error.message).toBe(message);
  });

  it('refuses sox effects for arecord', () => {
    expect(() => new Lpcm16Microphone({ recorder: 'arecord', gain: 6 })).toThrow(RangeError);
    expect(() => new Lpcm16Microphone({ recorder: 'arecord', endOnSilence: true })).toThrow(RangeError);
  });
});

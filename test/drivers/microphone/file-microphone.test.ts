import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileMicrophone } from '../../../drivers/microphone/file-microphone';
import { FRAME_BYTES, MicrophoneError } from '../../../drivers/microphone/microphone';
import { collect, ramp, turn, wav, expectReopenStopsPrevious } from './capture-helpers';

const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'audio', 'what-time-is-it.wav');
const FIXTURE_PCM_BYTES = 50_920 * 2;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'file-microphone-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function openError(mic: FileMicrophone): MicrophoneError {
  try {
    mic.open();
  } catch (error) {
    if (error instanceof MicrophoneError) return error;
    throw error;
  }
  throw new Error('open() succeeded');
}

const sizes = (frames: Buffer[]) => frames.map((f) => f.length);

describe('FileMicrophone sources', () => {
  it('delivers the fixture WAV as 320-byte frames, only the last one shorter', async () => {
    const frames = await collect(new FileMicrophone(FIXTURE, { realtime: false }).open().stream);
    expect(Buffer.concat(frames).length).toBe(FIXTURE_PCM_BYTES);
    expect(sizes(frames.slice(0, -1)).every((n) => n === FRAME_BYTES)).toBe(true);
    expect(frames.at(-1)?.length).toBe(FIXTURE_PCM_BYTES % FRAME_BYTES);
  });

  it('delivers exactly the samples of the data chunk', async () => {
    const pcm = ramp(FRAME_BYTES * 4);
    const frames = await collect(new FileMicrophone(file('ramp.wav', wav(pcm)), { realtime: false }).open().stream);
    expect(sizes(frames)).toEqual([320, 320, 320, 320]);
    expect(Buffer.concat(frames).equals(pcm)).toBe(true);
  });

  it('reads a raw s16le file as it is', async () => {
    const pcm = ramp(1000);
    const frames = await collect(new FileMicrophone(file('ramp.raw', pcm), { realtime: false }).open().stream);
    expect(sizes(frames)).toEqual([320, 320, 320, 40]);
    expect(Buffer.concat(frames).equals(pcm)).toBe(true);
  });

  it('tells a WAV file without the .wav extension by its header', async () => {
    const pcm = ramp(640);
    const frames = await collect(new FileMicrophone(file('speech.bin', wav(pcm)), { realtime: false }).open().stream);
    expect(Buffer.concat(frames).equals(pcm)).toBe(true);
  });

  it('reads a file as raw when told to, header and all', async () => {
    const bytes = wav(ramp(640));
    const frames = await collect(new FileMicrophone(file('forced.wav', bytes), { format: 'raw', realtime: false }).open().stream);
    expect(Buffer.concat(frames).equals(bytes)).toBe(true);
  });

  it('reads WAV and raw PCM from a Buffer', async () => {
    const pcm = ramp(960);
    const fromWav = await collect(new FileMicrophone(wav(pcm), { realtime: false }).open().stream);
    const fromRaw = await collect(new FileMicrophone(pcm, { realtime: false }).open().stream);
    expect(Buffer.concat(fromWav).equals(pcm)).toBe(true);
    expect(Buffer.concat(fromRaw).equals(pcm)).toBe(true);
    expect(sizes(fromRaw)).toEqual([320, 320, 320]);
  });

  it('refuses a WAV in another format with BAD_SOURCE naming the file and the problem', () => {
    const path = file('cd.wav', wav(ramp(64), { sampleRate: 44_100, channels: 2 }));
    const error = openError(new FileMicrophone(path));
    expect(error.code).toBe('BAD_SOURCE');
    expect(error.message).toContain(path);
    expect(error.message).toContain('sample rate is 44100 Hz, not 16000 Hz');
    expect(error.message).toContain('it has 2 channels, not 1 (mono)');
  });

  it('refuses a .wav file that is not a WAV, a raw file of half a sample, and a missing file', () => {
    expect(openError(new FileMicrophone(file('fake.wav', ramp(64)))).message).toMatch(/fake\.wav: not a WAV file/);
    expect(openError(new FileMicrophone(file('odd.raw', Buffer.alloc(5)))).message).toMatch(
      /odd\.raw: 5 bytes is not a whole number of 16-bit samples/,
    );
    const missing = openError(new FileMicrophone(join(dir, 'nowhere.wav')));
    expect(missing.code).toBe('BAD_SOURCE');
    expect(missing.message).toMatch(/nowhere\.wav: cannot be read \(ENOENT/);
    expect(openError(new FileMicrophone(Buffer.alloc(3))).message).toMatch(/^the audio buffer: 3 bytes/);
  });

  it('rejects a negative trailing silence', () => {
    expect(() => new FileMicrophone(ramp(4), { trailingSilenceMs: -1 })).toThrow(RangeError);
  });
});

describe('FileMicrophone after the recording', () => {
  it('appends exactly the trailing silence asked for', async () => {
    const pcm = ramp(1000);
    const frames = await collect(new FileMicrophone(pcm, { realtime: false, trailingSilenceMs: 250 }).open().stream);
    const all = Buffer.concat(frames);
    expect(all.length).toBe(1000 + 8000);
    expect(all.subarray(0, 1000).equals(pcm)).toBe(true);
    expect(all.subarray(1000).every((b) => b === 0)).toBe(true);
    expect(sizes(frames.slice(0, -1)).every((n) => n === FRAME_BYTES)).toBe(true);
  });

  it("keeps delivering silence with then: 'silence' until stop(), then ends", async () => {
    const pcm = ramp(640);
    const capture = new FileMicrophone(pcm, { realtime: false, then: 'silence' }).open();
    const frames: Buffer[] = [];
    const ended = new Promise<void>((resolve) => capture.stream.once('end', resolve));
    capture.stream.on('data', (frame: Buffer) => {
      frames.push(frame);
      if (frames.length === 500) capture.stop();
    });
    await ended;
    expect(frames.length).toBeGreaterThanOrEqual(500);
    expect(sizes(frames).every((n) => n === FRAME_BYTES)).toBe(true);
    const all = Buffer.concat(frames);
    expect(all.subarray(0, 640).equals(pcm)).toBe(true);
    expect(all.subarray(640).every((b) => b === 0)).toBe(true);
  });

  it('leaves the event loop free while it streams endless silence', async () => {
    const capture = new FileMicrophone(ramp(640), { realtime: false, then: 'silence' }).open();
    capture.stream.resume();
    // A timer can only fire if delivery yields between batches.
    await new Promise((resolve) => setTimeout(resolve, 1));
    capture.stop();
    await new Promise((resolve) => capture.stream.once('end', resolve));
  });
});

describe('FileMicrophone captures', () => {
  it('starts from the beginning on every open()', async () => {
    const pcm = ramp(960);
    const mic = new FileMicrophone(pcm, { realtime: false });
    expect(Buffer.concat(await collect(mic.open().stream)).equals(pcm)).toBe(true);
    expect(Buffer.concat(await collect(mic.open().stream)).equals(pcm)).toBe(true);
  });

  it('stops the previous capture when opened again', async () => {
    const mic = new FileMicrophone(ramp(640), { realtime: false, then: 'silence' });
    await expectReopenStopsPrevious(mic);
  });

  it('ends at once on stop(), with none of the rest of the file', async () => {
    const capture = new FileMicrophone(FIXTURE, { realtime: false }).open();
    const frames: Buffer[] = [];
    capture.stream.on('data', (frame: Buffer) => {
      frames.push(frame);
      if (frames.length === 1) capture.stop();
    });
    await new Promise((resolve) => capture.stream.once('end', resolve));
    // At most what was already read ahead into the stream's buffer.
    expect(Buffer.concat(frames).length).toBeLessThanOrEqual(capture.stream.readableHighWaterMark + 2 * FRAME_BYTES);
  });

  it('ends quietly when stopped twice or after its end', async () => {
    const capture = new FileMicrophone(ramp(320), { realtime: false }).open();
    await collect(capture.stream);
    capture.stop();
    capture.stop();
  });
});

describe('FileMicrophone in real time', () => {
  let now = 0;
  beforeEach(() => {
    // Timers are simulated; the clock the microphone reads is this variable, so a test can also
    // let time pass with no timer firing (a busy event loop).
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance'] });
    now = 1_000;
    jest.spyOn(performance, 'now').mockImplementation(() => now);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  async function advance(ms: number): Promise<void> {
    for (let i = 0; i < ms; i++) {
      now += 1;
      jest.advanceTimersByTime(1);
    }
    await turn();
  }

  function record(mic: FileMicrophone) {
    const capture = mic.open();
    const frames: Buffer[] = [];
    let ended = false;
    capture.stream.on('data', (frame: Buffer) => frames.push(frame));
    capture.stream.on('end', () => {
      ended = true;
    });
    return { capture, frames, ended: () => ended };
  }

  it('delivers one frame per 10 ms of audio', async () => {
    const { frames } = record(new FileMicrophone(ramp(FRAME_BYTES * 100)));
    await advance(9);
    expect(frames).toHaveLength(0);
    await advance(1);
    expect(frames).toHaveLength(1);
    await advance(35);
    expect(frames).toHaveLength(4);
    await advance(955);
    expect(frames).toHaveLength(100);
  });

  it('ends once the last frame, a short one, has had its time', async () => {
    const { frames, ended } = record(new FileMicrophone(ramp(FRAME_BYTES * 2 + 160)));
    await advance(24);
    expect(sizes(frames)).toEqual([320, 320]);
    expect(ended()).toBe(false);
    await advance(1);
    expect(sizes(frames)).toEqual([320, 320, 160]);
    expect(ended()).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('catches up after a late timer instead of falling behind', async () => {
    const { frames } = record(new FileMicrophone(ramp(FRAME_BYTES * 100)));
    // The event loop is blocked for 95 ms: the timer due at 10 ms fires at 105 ms.
    now += 95;
    await advance(10);
    expect(frames).toHaveLength(10);
    await advance(5);
    expect(frames).toHaveLength(11);
    await advance(10);
    expect(frames).toHaveLength(12);
  });

  it('paces the trailing silence and the silence after it too', async () => {
    const { capture, frames, ended } = record(new FileMicrophone(ramp(FRAME_BYTES), { trailingSilenceMs: 20, then: 'silence' }));
    await advance(1000);
    expect(frames).toHaveLength(100);
    capture.stop();
    await turn();
    expect(ended()).toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('stops promptly: nothing more after stop(), the end right away, no timer left', async () => {
    const { capture, frames, ended } = record(new FileMicrophone(ramp(FRAME_BYTES * 1000)));
    await advance(30);
    expect(frames).toHaveLength(3);
    capture.stop();
    await turn();
    expect(ended()).toBe(true);
    await advance(100);
    expect(frames).toHaveLength(3);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('lets go of its timer when the reader destroys the stream', async () => {
    const { capture } = record(new FileMicrophone(ramp(FRAME_BYTES * 1000)));
    await advance(20);
    capture.stream.destroy();
    await turn();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('delivers on schedule even when nobody reads yet', async () => {
    const capture = new FileMicrophone(ramp(FRAME_BYTES * 10)).open();
    await advance(50);
    expect(capture.stream.readableLength).toBe(FRAME_BYTES * 5);
  });
});

import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { id3Tag, NullOutput, type NullPlayback } from '../../../drivers/audio-output';
import { silentMp3 } from '../../avs-cloud/mp3';

/** Every event the playback emits, in order. */
function events(playback: NullPlayback): string[] {
  const seen: string[] = [];
  for (const e of ['started', 'paused', 'resumed', 'finished', 'stopped', 'failed'] as const) playback.on(e, () => seen.push(e));
  return seen;
}

/** Stutter, metadata and attenuation as they come, with what they carry. */
function extras(playback: NullPlayback): string[] {
  const seen: string[] = [];
  playback.on('underrun', () => seen.push('underrun'));
  playback.on('recovered', (ms) => seen.push(`recovered ${ms}`));
  playback.on('metadata', (m) => seen.push(`metadata ${JSON.stringify(m)}`));
  playback.on('attenuation', (on) => seen.push(`attenuation ${on}`));
  return seen;
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('NullOutput', () => {
  it('starts with the first byte and finishes with the last, its offset following the audio', async () => {
    const stream = new PassThrough();
    const playback = new NullOutput().play({ stream, format: 'mp3' });
    const seen = events(playback);
    const started = once(playback, 'started');
    stream.write(silentMp3(360));
    await started;
    expect(seen).toEqual(['started']);
    stream.end(silentMp3(360));
    await expect(playback.settled).resolves.toEqual({ outcome: 'finished' });
    expect(seen).toEqual(['started', 'finished']);
    expect(playback.offsetMs).toBe(720);
  });

  it('starts and finishes a URL without fetching it', async () => {
    const playback = new NullOutput().play({ url: 'http://127.0.0.1:9/never-fetched.mp3' }, { offsetMs: 1500 });
    const seen = events(playback);
    await playback.settled;
    expect(seen).toEqual(['started', 'finished']);
    expect(playback.offsetMs).toBe(1500);
  });

  it('stops once and keeps draining, so the writer never blocks', async () => {
    const stream = new PassThrough({ highWaterMark: 1024 });
    const playback = new NullOutput().play({ stream, format: 'pcm16k' });
    const seen = events(playback);
    playback.stop();
    playback.stop();
    await new Promise((resolve) => stream.write(Buffer.alloc(1024 * 1024), resolve));
    stream.end();
    await once(stream, 'end');
    expect(seen).toEqual(['stopped']);
  });

  it('holds the end while paused', async () => {
    const stream = new PassThrough();
    const playback = new NullOutput().play({ stream, format: 'pcm16k' });
    const seen = events(playback);
    playback.pause();
    stream.end(Buffer.alloc(3200));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['paused']);
    playback.resume();
    await playback.settled;
    expect(seen).toEqual(['paused', 'resumed', 'started', 'finished']);
    expect(playback.offsetMs).toBe(100);
  });

  it('fails with SOURCE_FAILED when the stream errors', async () => {
    const stream = new PassThrough();
    const playback = new NullOutput().play({ stream, format: 'mp3' });
    stream.destroy(new Error('gone'));
    const result = await playback.settled;
    expect(result.outcome === 'failed' && result.error.code).toBe('SOURCE_FAILED');
  });

  it('reads the ID3 tag of an MP3 stream as it drains, split anywhere', async () => {
    const fields = { title: 'Song', album: 'Album ☃' };
    const tagged = Buffer.concat([id3Tag(fields), silentMp3(72)]);
    for (let at = 1; at < tagged.length; at += 7) {
      const stream = new PassThrough();
      const playback = new NullOutput().play({ stream, format: 'mp3' });
      const seen = extras(playback);
      stream.write(tagged.subarray(0, at));
      stream.end(tagged.subarray(at));
      await playback.settled;
      expect(seen).toEqual([`metadata ${JSON.stringify(fields)}`]);
    }
  });

  it('records the attenuation flag while it plays, not after', async () => {
    const stream = new PassThrough();
    const playback = new NullOutput().play({ stream, format: 'pcm16k' });
    const seen = extras(playback);
    playback.attenuate(true);
    expect(playback.attenuated).toBe(true);
    playback.attenuate(false);
    stream.end(Buffer.alloc(320));
    await playback.settled;
    playback.attenuate(true);
    expect(playback.attenuated).toBe(false);
    expect(seen).toEqual(['attenuation true', 'attenuation false']);
  });

  describe('stutter', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    it('underruns when no byte came for stallMs after the start, and recovers with the next', async () => {
      const stream = new PassThrough();
      const playback = new NullOutput({ stallMs: 100 }).play({ stream, format: 'pcm16k' });
      const seen = extras(playback);
      await jest.advanceTimersByTimeAsync(1000);
      expect(seen).toEqual([]);
      stream.write(Buffer.alloc(320));
      await flush();
      await jest.advanceTimersByTimeAsync(99);
      expect(seen).toEqual([]);
      await jest.advanceTimersByTimeAsync(301);
      stream.write(Buffer.alloc(320));
      await flush();
      await jest.advanceTimersByTimeAsync(50);
      stream.write(Buffer.alloc(320));
      await flush();
      expect(seen).toEqual(['underrun', 'recovered 300']);
      stream.end();
      await playback.settled;
      await jest.advanceTimersByTimeAsync(1000);
      expect(seen).toEqual(['underrun', 'recovered 300']);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('waits 500 ms by default, never while paused, and not after the stream ended', async () => {
      const stream = new PassThrough();
      const playback = new NullOutput().play({ stream, format: 'pcm16k' });
      const seen = extras(playback);
      stream.write(Buffer.alloc(320));
      await flush();
      playback.pause();
      await jest.advanceTimersByTimeAsync(5000);
      expect(seen).toEqual([]);
      playback.resume();
      await jest.advanceTimersByTimeAsync(499);
      expect(seen).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(seen).toEqual(['underrun']);
      // Paused during the stall, the pause does not count; the bytes after the resume end it.
      playback.pause();
      await jest.advanceTimersByTimeAsync(5000);
      playback.resume();
      await jest.advanceTimersByTimeAsync(20);
      stream.end(Buffer.alloc(320));
      await playback.settled;
      expect(seen).toEqual(['underrun', 'recovered 20']);

      const ended = new PassThrough();
      const other = new NullOutput({ stallMs: 10 }).play({ stream: ended, format: 'pcm16k' });
      const otherSeen = extras(other);
      other.pause();
      ended.end(Buffer.alloc(320));
      await flush();
      await jest.advanceTimersByTimeAsync(1000);
      other.resume();
      await other.settled;
      expect(otherSeen).toEqual([]);
    });
  });

  it('remembers the volume', () => {
    const output = new NullOutput();
    output.setVolume(20, true);
    expect([output.volume, output.muted]).toEqual([20, true]);
  });
});

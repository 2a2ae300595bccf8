import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { AudioOutputError, id3Tag, type PlaybackEvents, RecordingOutput, type RecordingPlayback, wavHeader } from '../../../drivers/audio-output';
import { MP3_FRAME_BYTES, MP3_FRAME_MS, silentMp3 } from '../../avs-cloud/mp3';

const TERMINAL: readonly (keyof PlaybackEvents)[] = ['finished', 'stopped', 'failed'];
const terminalEvents = (p: RecordingPlayback): string[] => p.recording.events.map((e) => e.event).filter((e) => TERMINAL.includes(e));
/** The events but progress, and but a stutter: unpaced, a slow machine may stall a stream longer than stallMs anywhere. */
const eventNames = (p: RecordingPlayback): string[] => p.recording.events.map((e) => e.event).filter((e) => e !== 'progress' && e !== 'underrun' && e !== 'recovered');
/** The events but progress, with each one's offset, and the stall of a `recovered`. */
const timeline = (p: RecordingPlayback): string[] =>
  p.recording.events.filter((e) => e.event !== 'progress').map((e) => `${e.event}@${e.offsetMs}${e.stallMs !== undefined ? ` stalled ${e.stallMs}` : ''}`);
/** Lets the stream deliver what was written (real event-loop turns; fake timers leave setImmediate alone here). */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('RecordingOutput', () => {
  it('starts with the first chunk, before the stream has ended, and finishes at its end', async () => {
    const output = new RecordingOutput();
    const stream = new PassThrough();
    const playback = output.play({ stream, format: 'mp3' });
    const started = once(playback, 'started');
    stream.write(silentMp3(360));
    await started;
    expect(playback.recording.startedAt).toBeDefined();
    expect(playback.recording.outcome).toBeUndefined();
    stream.end(silentMp3(360));
    await expect(playback.settled).resolves.toEqual({ outcome: 'finished' });
    const r = output.recordings[0];
    expect(r).toMatchObject({ index: 0, source: { kind: 'stream', format: 'mp3' }, outcome: 'finished', bytes: 20 * MP3_FRAME_BYTES, durationMs: 20 * MP3_FRAME_MS });
    expect(r.chunks.map((c) => c.bytes.length)).toEqual([10 * MP3_FRAME_BYTES, 10 * MP3_FRAME_BYTES]);
    expect(r.audio()).toEqual(silentMp3(720));
    expect(r.endedAt).toBeGreaterThanOrEqual(r.startedAt ?? Infinity);
    expect(eventNames(playback)).toEqual(['started', 'finished']);
    expect(playback.offsetMs).toBe(720);
  });

  it('reports progress as the audio is seen, and the offset includes the start offset', async () => {
    const output = new RecordingOutput();
    const playback = output.play({ stream: Readable.from([silentMp3(180), silentMp3(180), silentMp3(360)]), format: 'mp3' }, { offsetMs: 100 });
    const progress: number[] = [];
    playback.on('progress', (ms) => progress.push(ms));
    await playback.settled;
    // 720 ms of audio, the first 100 skipped as a real player would.
    expect(playback.offsetMs).toBe(720);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.every((ms) => ms >= 100 && ms <= 720)).toBe(true);
  });

  it('ends exactly once: a stop after the end, a second stop or a late error change nothing', async () => {
    const output = new RecordingOutput();
    const finishedStream = new PassThrough();
    const finished = output.play({ stream: finishedStream, format: 'pcm16k' });
    finishedStream.end(Buffer.alloc(3200));
    await finished.settled;
    finished.stop();
    finished.pause();
    expect(terminalEvents(finished)).toEqual(['finished']);

    const stream = new PassThrough();
    const stopped = output.play({ stream, format: 'pcm16k' });
    // Registered before the write: a flowing stream may deliver the chunk within write().
    const started = once(stopped, 'started');
    stream.write(Buffer.alloc(320));
    await started;
    stopped.stop();
    stopped.stop();
    stream.destroy(new Error('late'));
    await flush();
    expect(terminalEvents(stopped)).toEqual(['stopped']);
    expect(stopped.recording.outcome).toBe('stopped');
    expect(stopped.recording.error).toBeUndefined();
  });

  it('fails with SOURCE_FAILED when the stream errors, once', async () => {
    const output = new RecordingOutput();
    const stream = new PassThrough();
    const playback = output.play({ stream, format: 'mp3' });
    const started = once(playback, 'started');
    stream.write(silentMp3(100));
    await started;
    stream.destroy(new Error('connection reset'));
    const result = await playback.settled;
    expect(result.outcome).toBe('failed');
    expect(result.outcome === 'failed' && result.error).toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('connection reset') });
    expect(terminalEvents(playback)).toEqual(['failed']);
  });

  it('keeps draining a stream after a stop, so its writer never blocks', async () => {
    const output = new RecordingOutput();
    const stream = new PassThrough({ highWaterMark: 1024 });
    const playback = output.play({ stream, format: 'pcm16k' });
    playback.stop();
    const written = new Promise((resolve) => stream.write(Buffer.alloc(1024 * 1024), resolve));
    stream.write(Buffer.alloc(1024 * 1024));
    await written;
    stream.end();
    await once(stream, 'end');
    expect(playback.recording.bytes).toBe(0);
  });

  it('simulates a player failure with failOn: failed right after play(), never started', async () => {
    const output = new RecordingOutput({
      failOn: (source) => (source.kind === 'stream' && source.format === 'wav' ? new AudioOutputError('PLAYER_FAILED', 'simulated') : undefined),
    });
    const stream = new PassThrough();
    const playback = output.play({ stream, format: 'wav' });
    const failed = jest.fn();
    playback.on('failed', failed);
    stream.end(Buffer.concat([wavHeader(16000, 1, 3200), Buffer.alloc(3200)]));
    await playback.settled;
    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ code: 'PLAYER_FAILED', message: 'simulated' }));
    expect(eventNames(playback)).toEqual(['failed']);
    const ok = output.play({ stream: Readable.from([silentMp3(36)]), format: 'mp3' });
    await expect(ok.settled).resolves.toEqual({ outcome: 'finished' });
  });

  it('records the volume and mute state at the start of each playback', async () => {
    const output = new RecordingOutput();
    output.setVolume(30, true);
    const first = output.play({ stream: Readable.from([]), format: 'mp3' });
    output.setVolume(80, false);
    const second = output.play({ stream: Readable.from([]), format: 'mp3' });
    await Promise.all([first.settled, second.settled]);
    expect(output.recordings.map((r) => [r.volume, r.muted])).toEqual([
      [30, true],
      [80, false],
    ]);
    // An empty stream: nothing to play, so no sound ever started.
    expect(eventNames(first)).toEqual(['finished']);
  });

  it('hands out a recording once play() has been called that often', async () => {
    const output = new RecordingOutput();
    const second = output.waitForRecording(1);
    output.play({ stream: Readable.from([]), format: 'mp3' });
    let resolved = false;
    void second.then(() => (resolved = true));
    await flush();
    expect(resolved).toBe(false);
    const playback = output.play({ url: 'https://example.invalid/a.wav' }, {});
    playback.stop();
    await expect(second).resolves.toMatchObject({ index: 1, source: { kind: 'url', url: 'https://example.invalid/a.wav', format: 'wav' } });
    expect(output.last).toBe(await second);
  });

  describe('paced', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    it('takes as long as the audio lasts, with progress every 100 ms, held while paused', async () => {
      const output = new RecordingOutput({ paced: true });
      const stream = new PassThrough();
      const playback = output.play({ stream, format: 'mp3' });
      const progress: number[] = [];
      playback.on('progress', (ms) => progress.push(ms));
      stream.end(silentMp3(1000)); // 28 frames, 1008 ms
      await flush();
      expect(playback.hasStarted).toBe(true);
      expect(playback.offsetMs).toBe(0);

      await jest.advanceTimersByTimeAsync(500);
      expect(progress).toEqual([100, 200, 300, 400, 500]);
      expect(playback.offsetMs).toBe(500);

      playback.pause();
      await jest.advanceTimersByTimeAsync(1000);
      expect(playback.offsetMs).toBe(500);
      expect(playback.isSettled).toBe(false);

      playback.resume();
      await jest.advanceTimersByTimeAsync(507);
      expect(playback.isSettled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(playback.outcome).toEqual({ outcome: 'finished' });
      expect(playback.offsetMs).toBe(1008);
      expect(progress).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
      expect(eventNames(playback)).toEqual(['started', 'paused', 'resumed', 'finished']);
      const r = playback.recording;
      expect((r.endedAt ?? 0) - (r.startedAt ?? 0)).toBe(1008 + 1000);
    });

    it('plays pcm16k at 32,000 bytes a second, chunk after chunk as they arrive', async () => {
      const output = new RecordingOutput({ paced: true });
      const stream = new PassThrough();
      const playback = output.play({ stream, format: 'pcm16k' });
      stream.write(Buffer.alloc(6400)); // 200 ms
      await flush();
      await jest.advanceTimersByTimeAsync(300);
      // Played out and waiting for more: an underrun, not the end.
      expect(playback.offsetMs).toBe(200);
      expect(playback.isSettled).toBe(false);
      stream.end(Buffer.alloc(3200));
      await flush();
      await jest.advanceTimersByTimeAsync(100);
      expect(playback.outcome).toEqual({ outcome: 'finished' });
      expect(playback.offsetMs).toBe(300);
    });

    it('skips to the start offset at once, then plays the rest in real time', async () => {
      const output = new RecordingOutput({ paced: true });
      const playback = output.play({ stream: Readable.from([silentMp3(1000)]), format: 'mp3' }, { offsetMs: 500 });
      const progress: number[] = [];
      playback.on('progress', (ms) => progress.push(ms));
      await flush();
      expect(playback.offsetMs).toBe(500);
      await jest.advanceTimersByTimeAsync(508);
      expect(playback.outcome).toEqual({ outcome: 'finished' });
      expect(progress).toEqual([600, 700, 800, 900, 1000]);
      expect(playback.offsetMs).toBe(1008);
    });

    it('stops at once, mid-way', async () => {
      const output = new RecordingOutput({ paced: true });
      const playback = output.play({ stream: Readable.from([silentMp3(1000)]), format: 'mp3' });
      await flush();
      await jest.advanceTimersByTimeAsync(250);
      playback.stop();
      await jest.advanceTimersByTimeAsync(2000);
      expect(playback.offsetMs).toBe(200);
      expect(terminalEvents(playback)).toEqual(['stopped']);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('underruns when it has played all it has before the end, holds the offset, and recovers when audio comes', async () => {
      const output = new RecordingOutput({ paced: true });
      const stream = new PassThrough();
      const playback = output.play({ stream, format: 'pcm16k' });
      const stalls: number[] = [];
      playback.on('recovered', (ms) => stalls.push(ms));
      stream.write(Buffer.alloc(6400)); // 200 ms
      await flush();
      await jest.advanceTimersByTimeAsync(199);
      expect(timeline(playback)).toEqual(['started@0']);
      await jest.advanceTimersByTimeAsync(1);
      expect(timeline(playback)).toEqual(['started@0', 'underrun@200']);
      expect(playback.isUnderrun).toBe(true);

      await jest.advanceTimersByTimeAsync(300);
      expect(playback.offsetMs).toBe(200);
      stream.write(Buffer.alloc(3200)); // 100 ms more
      await flush();
      expect(stalls).toEqual([300]);
      await jest.advanceTimersByTimeAsync(100);
      expect(playback.offsetMs).toBe(300);
      // Dry again: a second stutter, however many times pump runs meanwhile.
      await jest.advanceTimersByTimeAsync(50);
      stream.end(Buffer.alloc(1600));
      await flush();
      await jest.advanceTimersByTimeAsync(50);
      expect(playback.outcome).toEqual({ outcome: 'finished' });
      expect(timeline(playback)).toEqual(['started@0', 'underrun@200', 'recovered@200 stalled 300', 'underrun@300', 'recovered@300 stalled 50', 'finished@350']);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('runs dry on an MP3 stream where its last confirmed frame ends, and plays the rest once it comes', async () => {
      const output = new RecordingOutput({ paced: true });
      const stream = new PassThrough();
      const playback = output.play({ stream, format: 'mp3' });
      stream.write(silentMp3(360)); // 10 frames; the last is confirmed by the header after it
      await flush();
      await jest.advanceTimersByTimeAsync(1000);
      expect(timeline(playback)).toEqual(['started@0', 'underrun@324']);
      stream.end(silentMp3(360));
      await flush();
      await jest.advanceTimersByTimeAsync(396);
      expect(timeline(playback)).toEqual(['started@0', 'underrun@324', 'recovered@324 stalled 676', 'finished@720']);
    });

    it('never underruns while paused, after the stream ended, or before it started', async () => {
      const output = new RecordingOutput({ paced: true });
      const idle = output.play({ stream: new PassThrough(), format: 'pcm16k' });
      await jest.advanceTimersByTimeAsync(5000);
      expect(timeline(idle)).toEqual([]);

      const stream = new PassThrough();
      const playback = output.play({ stream, format: 'pcm16k' });
      stream.write(Buffer.alloc(6400)); // 200 ms
      await flush();
      await jest.advanceTimersByTimeAsync(150);
      playback.pause();
      await jest.advanceTimersByTimeAsync(5000);
      expect(playback.offsetMs).toBe(100);
      playback.resume();
      stream.end(Buffer.alloc(3200));
      await flush();
      await jest.advanceTimersByTimeAsync(200);
      expect(timeline(playback)).toEqual(['started@0', 'paused@100', 'resumed@100', 'finished@300']);
    });

    it('does not count paused time in a stall, and recovers on resume when audio came meanwhile', async () => {
      const output = new RecordingOutput({ paced: true });
      const stream = new PassThrough();
      const playback = output.play({ stream, format: 'pcm16k' });
      stream.write(Buffer.alloc(3200)); // 100 ms
      await flush();
      await jest.advanceTimersByTimeAsync(100); // dry at 100
      await jest.advanceTimersByTimeAsync(40);
      playback.pause();
      stream.write(Buffer.alloc(3200));
      await flush();
      await jest.advanceTimersByTimeAsync(1000);
      expect(timeline(playback)).toEqual(['started@0', 'underrun@100', 'paused@100']);
      playback.resume();
      expect(timeline(playback)).toEqual(['started@0', 'underrun@100', 'paused@100', 'resumed@100', 'recovered@100 stalled 40']);
      stream.end();
      await jest.advanceTimersByTimeAsync(100);
      expect(playback.outcome).toEqual({ outcome: 'finished' });
      expect(playback.offsetMs).toBe(200);
    });

    it('keeps time exactly while attenuated, and records each change', async () => {
      const output = new RecordingOutput({ paced: true });
      const playback = output.play({ stream: Readable.from([Buffer.alloc(16000)]), format: 'pcm16k' }); // 500 ms
      await flush();
      await jest.advanceTimersByTimeAsync(100);
      playback.attenuate(true);
      playback.attenuate(true);
      expect(playback.attenuated).toBe(true);
      await jest.advanceTimersByTimeAsync(250);
      expect(playback.offsetMs).toBe(300);
      playback.attenuate(false);
      await jest.advanceTimersByTimeAsync(150);
      expect(playback.outcome).toEqual({ outcome: 'finished' });
      playback.attenuate(true);
      expect(playback.attenuated).toBe(false);
      expect(timeline(playback)).toEqual(['started@0', 'attenuation@100', 'attenuation@300', 'finished@500']);
      expect(playback.recording.events.filter((e) => e.event === 'attenuation').map((e) => e.attenuated)).toEqual([true, false]);
      expect((playback.recording.endedAt ?? 0) - (playback.recording.startedAt ?? 0)).toBe(500);
    });
  });

  describe('stutter, not paced', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    it('underruns after stallMs without a chunk, once, and recovers with the next chunk', async () => {
      const output = new RecordingOutput({ stallMs: 200 });
      const stream = new PassThrough();
      const playback = output.play({ stream, format: 'pcm16k' });
      const stalls: number[] = [];
      playback.on('recovered', (ms) => stalls.push(ms));
      await jest.advanceTimersByTimeAsync(1000);
      expect(timeline(playback)).toEqual([]);
      stream.write(Buffer.alloc(3200));
      await flush();
      await jest.advanceTimersByTimeAsync(199);
      expect(playback.isUnderrun).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(playback.isUnderrun).toBe(true);
      await jest.advanceTimersByTimeAsync(1000);
      stream.write(Buffer.alloc(3200));
      await flush();
      expect(stalls).toEqual([1000]);
      stream.end();
      await playback.settled;
      await jest.advanceTimersByTimeAsync(5000);
      expect(timeline(playback)).toEqual(['started@100', 'underrun@100', 'recovered@100 stalled 1000', 'finished@200']);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('waits 500 ms by default, and not while paused', async () => {
      const output = new RecordingOutput();
      const stream = new PassThrough();
      const playback = output.play({ stream, format: 'pcm16k' });
      stream.write(Buffer.alloc(3200));
      await flush();
      playback.pause();
      await jest.advanceTimersByTimeAsync(5000);
      expect(playback.isUnderrun).toBe(false);
      playback.resume();
      await jest.advanceTimersByTimeAsync(499);
      expect(playback.isUnderrun).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(timeline(playback)).toEqual(['started@100', 'paused@100', 'resumed@100', 'underrun@100']);
      playback.stop();
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  describe('metadata', () => {
    const fields = { title: 'Song Title', artist: 'Some Artist', trackNumber: '3' };
    const tagged = Buffer.concat([id3Tag(fields), silentMp3(360)]);

    it('emits the ID3 tag of an MP3 stream once, before the sound starts or right after, wherever the bytes are split', async () => {
      const output = new RecordingOutput();
      const tagLength = id3Tag(fields).length;
      for (let at = 1; at <= tagLength + 1; at++) {
        const playback = output.play({ stream: Readable.from([tagged.subarray(0, at), tagged.subarray(at)]), format: 'mp3' });
        const seen: unknown[] = [];
        playback.on('metadata', (m) => seen.push(m));
        await playback.settled;
        expect(seen).toEqual([fields]);
        const names = eventNames(playback);
        // The tag is whole with the first chunk (before `started`), or with the second (after it).
        expect(names).toEqual(at >= tagLength ? ['metadata', 'started', 'finished'] : ['started', 'metadata', 'finished']);
        expect(playback.recording.events.find((e) => e.event === 'metadata')?.metadata).toEqual(fields);
        expect(playback.recording.durationMs).toBe(360);
      }
    });

    it('emits none for an untagged stream, a tag without text, or a format other than MP3', async () => {
      const output = new RecordingOutput();
      const sources = [
        { stream: Readable.from([silentMp3(72)]), format: 'mp3' as const },
        { stream: Readable.from([id3Tag({}), silentMp3(72)]), format: 'mp3' as const },
        { stream: Readable.from([tagged]), format: 'pcm16k' as const },
      ];
      for (const source of sources) {
        const playback = output.play(source);
        await playback.settled;
        expect(eventNames(playback)).toEqual(['started', 'finished']);
      }
    });
  });

  describe('URL sources', () => {
    let server: http.Server;
    let base: string;
    const mp3 = silentMp3(500);

    beforeAll(async () => {
      server = http.createServer((req, res) => {
        if (req.url === '/song.mp3') res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(mp3);
        else if (req.url === '/moved.mp3') res.writeHead(302, { location: '/song.mp3' }).end();
        else res.writeHead(404).end('no such media');
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.close();
      await once(server, 'close');
    });

    it('fetches an http URL and plays what it gets', async () => {
      const output = new RecordingOutput();
      const playback = output.play({ url: `${base}/song.mp3` });
      await expect(playback.settled).resolves.toEqual({ outcome: 'finished' });
      expect(playback.recording).toMatchObject({ source: { kind: 'url', url: `${base}/song.mp3`, format: 'mp3' }, bytes: mp3.length, durationMs: 504 });
      expect(eventNames(playback)).toEqual(['started', 'finished']);
    });

    it('follows a redirect', async () => {
      const playback = new RecordingOutput().play({ url: `${base}/moved.mp3` });
      await expect(playback.settled).resolves.toEqual({ outcome: 'finished' });
      expect(playback.recording.bytes).toBe(mp3.length);
    });

    it('fails with SOURCE_FAILED on a 404', async () => {
      const playback = new RecordingOutput().play({ url: `${base}/missing.mp3` });
      const result = await playback.settled;
      expect(result.outcome === 'failed' && result.error).toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('HTTP 404') });
      expect(eventNames(playback)).toEqual(['failed']);
    });

    it('fails with SOURCE_FAILED when nothing listens', async () => {
      const closed = http.createServer();
      closed.listen(0, '127.0.0.1');
      await once(closed, 'listening');
      const port = (closed.address() as AddressInfo).port;
      closed.close();
      await once(closed, 'close');
      const result = await new RecordingOutput().play({ url: `http://127.0.0.1:${port}/x.mp3` }).settled;
      expect(result.outcome === 'failed' && result.error.code).toBe('SOURCE_FAILED');
    });

    it('takes a fetchUrl of its own', async () => {
      const fetched: string[] = [];
      const output = new RecordingOutput({
        fetchUrl: (url) => {
          fetched.push(url);
          return Readable.from([silentMp3(72)]);
        },
      });
      await output.play({ url: 'cid:attachment-1' }).settled;
      expect(fetched).toEqual(['cid:attachment-1']);
      expect(output.recordings[0]).toMatchObject({ outcome: 'finished', durationMs: 72 });
    });
  });
});

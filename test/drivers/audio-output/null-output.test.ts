import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { NullOutput, type NullPlayback } from '../../../drivers/audio-output';
import { silentMp3 } from '../../avs-cloud/mp3';

/** Every event the playback emits, in order. */
function events(playback: NullPlayback): string[] {
  const seen: string[] = [];
  for (const e of ['started', 'paused', 'resumed', 'finished', 'stopped', 'failed'] as const) playback.on(e, () => seen.push(e));
  return seen;
}

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

  it('remembers the volume', () => {
    const output = new NullOutput();
    output.setVolume(20, true);
    expect([output.volume, output.muted]).toEqual([20, true]);
  });
});

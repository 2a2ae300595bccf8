// PlaySoundOutput with the real mpg123 (always `-o dummy`: with no sound card its default output
// spins at 100% CPU), and with stand-in players — shell scripts named like the real ones — that
// record their arguments and copy what they read, to check what the player is given.
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { id3Tag, type PlaybackEvents, PlaySoundOutput, type PlaySoundPlayback, type StreamMetadata, wavHeader } from '../../../drivers/audio-output';
import { MP3_FRAME_BYTES, silentMp3 } from '../../avs-cloud/mp3';


let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'play-sound-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every player process a test started, to check none outlives it. */
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) expect(isRunning(pid)).toBe(false);
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The process state letter from /proc (T: stopped by a signal). */
const procState = (pid: number): string => /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '?';

/** Resolves once the process is (or is no longer) stopped: a signal lands when the kernel next schedules it. */
async function processStopped(pid: number, stopped: boolean): Promise<void> {
  while ((procState(pid) === 'T') !== stopped) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Every event the playback emits, in order (progress left out). */
function events(playback: PlaySoundPlayback): string[] {
  const seen: string[] = [];
  const names: (keyof PlaybackEvents)[] = ['started', 'paused', 'resumed', 'finished', 'stopped', 'failed'];
  for (const e of names) playback.on(e, () => seen.push(e));
  return seen;
}

/** Adds stutter, metadata and attenuation to what `events` collects. */
function extras(playback: PlaySoundPlayback, seen: string[]): StreamMetadata[] {
  const metadata: StreamMetadata[] = [];
  playback.on('underrun', () => seen.push('underrun'));
  playback.on('recovered', () => seen.push('recovered'));
  playback.on('metadata', (m) => {
    metadata.push(m);
    seen.push('metadata');
  });
  playback.on('attenuation', (on) => seen.push(`attenuation ${on}`));
  return metadata;
}

/** Underrun and recovered alternate, starting with an underrun; none while paused, none once the source has ended ('end'). */
function expectStutterRules(seen: readonly string[]): void {
  let open = false;
  let paused = false;
  let ended = false;
  for (const [i, e] of seen.entries()) {
    if (e === 'underrun' && (open || paused || ended)) throw new Error(`underrun at ${i} of ${seen.join(', ')}`);
    if (e === 'recovered' && (!open || paused)) throw new Error(`recovered at ${i} of ${seen.join(', ')}`);
    if (e === 'underrun' || e === 'recovered') open = e === 'underrun';
    if (e === 'paused' || e === 'resumed') paused = e === 'paused';
    if (e === 'end') ended = true;
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Plays a stream, writes `first`, waits for the sound to start; notes the pid and the pipe. */
async function startStream(output: PlaySoundOutput, first: Buffer): Promise<{ playback: PlaySoundPlayback; stream: PassThrough; seen: string[]; fifo: string }> {
  const stream = new PassThrough();
  const playback = output.play({ stream, format: 'mp3' });
  const seen = events(playback);
  const started = once(playback, 'started');
  stream.write(first);
  await started;
  if (playback.pid !== undefined) pids.push(playback.pid);
  const fifo = playback.fifoPath;
  if (fifo === undefined) throw new Error('no pipe while playing');
  return { playback, stream, seen, fifo };
}

/** A stand-in player at `<dir>/<name>/<name>`: records its arguments and two env vars, copies its input. */
function standIn(name: string): { path: string; args: () => string[]; input: () => Buffer; env: () => string } {
  const home = mkdtempSync(join(dir, `${name}-`));
  const path = join(home, name);
  writeFileSync(
    path,
    `#!/bin/sh
for a; do last="$a"; done
printf '%s\\n' "$@" > '${home}/args'
printf '%s %s' "$AUDIODRIVER" "$AUDIODEV" > '${home}/env'
cat "$last" > '${home}/input'
`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    args: () => readFileSync(join(home, 'args'), 'utf8').trimEnd().split('\n'),
    input: () => readFileSync(join(home, 'input')),
    env: () => readFileSync(join(home, 'env'), 'utf8'),
  };
}

// mpg123 and sox are installed by the test command (runtime/cli/ensure-deps.js): never skipped.
describe('PlaySoundOutput with mpg123', () => {
  const output = (options: ConstructorParameters<typeof PlaySoundOutput>[0] = {}): PlaySoundOutput => new PlaySoundOutput({ noSoundCard: true, ...options });

  it('plays an MP3 stream through a named pipe to the end, then removes the pipe', async () => {
    const { playback, stream, seen, fifo } = await startStream(output(), silentMp3(360));
    expect(existsSync(fifo)).toBe(true);
    expect(isRunning(playback.pid ?? -1)).toBe(true);
    stream.end(silentMp3(360));
    await expect(playback.settled).resolves.toEqual({ outcome: 'finished' });
    expect(seen).toEqual(['started', 'finished']);
    expect(existsSync(fifo)).toBe(false);
    expect(playback.offsetMs).toBeGreaterThanOrEqual(0);
  });

  it('decodes every frame written, after skipping to the start offset', async () => {
    const wav = join(dir, 'decoded.wav');
    const playback = output({ playerArgs: ['-w', wav] }).play({ stream: Readable.from([silentMp3(1000)]), format: 'mp3' }, { offsetMs: 360 });
    await expect(playback.settled).resolves.toEqual({ outcome: 'finished' });
    // 28 frames, 10 skipped; 576 16-bit mono samples a frame.
    expect(readFileSync(wav).length - 44).toBe(18 * 576 * 2);
  });

  it('stops mid-way: stopped (not finished), the player gone, the rest of the stream drained', async () => {
    const { playback, stream, seen, fifo } = await startStream(output(), silentMp3(360));
    playback.stop();
    playback.stop();
    await expect(playback.settled).resolves.toEqual({ outcome: 'stopped' });
    expect(seen).toEqual(['started', 'stopped']);
    expect(existsSync(fifo)).toBe(false);
    await new Promise((resolve) => stream.write(Buffer.alloc(1024 * 1024), resolve));
    stream.end();
  });

  it('pauses with SIGSTOP and resumes with SIGCONT', async () => {
    const { playback, stream, seen } = await startStream(output(), silentMp3(360));
    const pid = playback.pid ?? -1;
    playback.pause();
    await processStopped(pid, true);
    const offset = playback.offsetMs;
    playback.resume();
    await processStopped(pid, false);
    expect(playback.offsetMs).toBeGreaterThanOrEqual(offset);
    stream.end(silentMp3(360));
    await playback.settled;
    expect(seen).toEqual(['started', 'paused', 'resumed', 'finished']);
  });

  it('stops a paused player', async () => {
    const { playback, seen } = await startStream(output(), silentMp3(360));
    playback.pause();
    playback.stop();
    await expect(playback.settled).resolves.toEqual({ outcome: 'stopped' });
    expect(seen).toEqual(['started', 'paused', 'stopped']);
  });

  it('reports progress by the clock while the player runs', async () => {
    const { playback, stream } = await startStream(output({ progressEveryMs: 20 }), silentMp3(360));
    const [first] = (await once(playback, 'progress')) as [number];
    const [second] = (await once(playback, 'progress')) as [number];
    expect(second).toBeGreaterThanOrEqual(first);
    stream.end();
    await playback.settled;
  });

  it('fails with SOURCE_FAILED when the stream errors, and kills the player', async () => {
    const { playback, stream, seen, fifo } = await startStream(output(), silentMp3(360));
    stream.destroy(new Error('attachment cut short'));
    const result = await playback.settled;
    expect(result.outcome === 'failed' && result.error).toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('attachment cut short') });
    expect(seen).toEqual(['started', 'failed']);
    expect(existsSync(fifo)).toBe(false);
  });

  it('fails with PLAYER_FAILED and the exit status when the player fails', async () => {
    // `-o null` does not exist: mpg123 exits 255 before reading a byte.
    const stream = new PassThrough();
    const playback = output({ playerArgs: ['-o', 'null'] }).play({ stream, format: 'mp3' });
    const seen = events(playback);
    stream.end(silentMp3(360));
    const result = await playback.settled;
    expect(result.outcome === 'failed' && result.error).toMatchObject({ code: 'PLAYER_FAILED', message: 'mpg123 exited with status 255' });
    expect(seen).toEqual(['failed']);
  });

  it('plays a stream that starts with an ID3 tag, and reports its text', async () => {
    const fields = { title: 'Tagged', artist: 'Ärtist ☃' };
    const stream = new PassThrough();
    const playback = output().play({ stream, format: 'mp3' });
    const seen = events(playback);
    const metadata = extras(playback, seen);
    stream.end(Buffer.concat([id3Tag(fields), silentMp3(360)]));
    await expect(playback.settled).resolves.toEqual({ outcome: 'finished' });
    expect(metadata).toEqual([fields]);
    expect(seen.filter((e) => e !== 'underrun' && e !== 'recovered')).toEqual(['metadata', 'started', 'finished']);
  });

  it('refuses a format mpg123 cannot play', async () => {
    const stream = new PassThrough();
    const playback = output().play({ stream, format: 'wav' });
    const result = await playback.settled;
    expect(result.outcome === 'failed' && result.error).toMatchObject({ code: 'PLAYER_FAILED', message: expect.stringContaining('cannot play wav') });
    // Drained all the same.
    await new Promise((resolve) => stream.write(Buffer.alloc(1024 * 1024), resolve));
  });

  describe('URL sources', () => {
    let server: http.Server;
    let base: string;
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        if (req.url === '/song.mp3') res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(silentMp3(500));
        else res.writeHead(404).end();
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    });

    it('hands an http URL to the player, which plays it to the end', async () => {
      const playback = output().play({ url: `${base}/song.mp3` });
      const seen = events(playback);
      await expect(playback.settled).resolves.toEqual({ outcome: 'finished' });
      expect(seen).toEqual(['started', 'finished']);
    });

    it('fails with PLAYER_FAILED when the player cannot fetch it', async () => {
      const result = await output().play({ url: `${base}/missing.mp3` }).settled;
      expect(result.outcome === 'failed' && result.error).toMatchObject({ code: 'PLAYER_FAILED', message: 'mpg123 exited with status 1' });
    });
  });
});

describe('PlaySoundOutput without a usable player', () => {
  it('fails with PLAYER_MISSING for a player that does not exist', async () => {
    const stream = new PassThrough();
    const playback = new PlaySoundOutput({ player: 'no-such-player-7f3a', noSoundCard: true }).play({ stream, format: 'mp3' });
    const seen = events(playback);
    stream.end(silentMp3(360));
    const result = await playback.settled;
    expect(result.outcome === 'failed' && result.error).toMatchObject({ code: 'PLAYER_MISSING', message: 'no-such-player-7f3a is not installed (not found on PATH)' });
    expect(seen).toEqual(['failed']);
  });

  it('says how to install mpg123 when it is not on PATH', async () => {
    const path = process.env.PATH;
    let playback: PlaySoundPlayback;
    try {
      process.env.PATH = join(dir, 'empty');
      playback = new PlaySoundOutput().play({ stream: Readable.from([silentMp3(36)]), format: 'mp3' });
    } finally {
      process.env.PATH = path;
    }
    const result = await playback.settled;
    expect(result.outcome === 'failed' && result.error).toMatchObject({ code: 'PLAYER_MISSING', message: 'mpg123 is not installed: apt-get install mpg123' });
  });

  it('fails with PLAYER_FAILED when the player exits non-zero without reading', async () => {
    const stream = new PassThrough();
    const playback = new PlaySoundOutput({ player: 'false', noSoundCard: true }).play({ stream, format: 'mp3' });
    const seen = events(playback);
    stream.end(silentMp3(360));
    const result = await playback.settled;
    expect(result.outcome === 'failed' && result.error).toMatchObject({ code: 'PLAYER_FAILED', message: 'false exited with status 1' });
    expect(seen).toEqual(['failed']);
  });
});

describe('PlaySoundOutput arguments (stand-in players)', () => {
  it('gives mpg123 -q, -o dummy and the volume as -f, applied to playbacks started after the change', async () => {
    const mpg123 = standIn('mpg123');
    const output = new PlaySoundOutput({ player: mpg123.path, noSoundCard: true });
    const mp3 = silentMp3(180);
    await output.play({ stream: Readable.from([mp3]), format: 'mp3' }).settled;
    expect(mpg123.args().slice(0, -1)).toEqual(['-q', '-o', 'dummy', '-f', '16384']);
    expect(mpg123.input()).toEqual(mp3);

    const stream = new PassThrough();
    const playing = output.play({ stream, format: 'mp3' });
    const started = once(playing, 'started');
    stream.write(mp3);
    await started;
    output.setVolume(0, false);
    stream.end();
    await playing.settled;
    expect(mpg123.args()).toContain('16384');

    await output.play({ stream: Readable.from([mp3]), format: 'mp3' }).settled;
    expect(mpg123.args().slice(0, -1)).toEqual(['-q', '-o', 'dummy', '-f', '0']);
    output.setVolume(100, true);
    await output.play({ stream: Readable.from([mp3]), format: 'mp3' }).settled;
    expect(mpg123.args().slice(0, -1)).toEqual(['-q', '-o', 'dummy', '-f', '0']);
    output.setVolume(100, false);
    await output.play({ stream: Readable.from([mp3]), format: 'mp3' }, { offsetMs: 72 }).settled;
    expect(mpg123.args().slice(0, -1)).toEqual(['-q', '-o', 'dummy', '-f', '32768']);
    expect(mpg123.input()).toEqual(mp3.subarray(2 * MP3_FRAME_BYTES));
  });

  it('leaves out -o dummy with a sound card, and adds the extra arguments last', async () => {
    const mpg123 = standIn('mpg123');
    const output = new PlaySoundOutput({ player: mpg123.path, noSoundCard: false, playerArgs: ['--no-gapless'] });
    await output.play({ stream: Readable.from([silentMp3(36)]), format: 'mp3' }).settled;
    expect(mpg123.args().slice(0, -1)).toEqual(['-q', '-f', '16384', '--no-gapless']);
  });

  it('passes a URL to the player, with the start offset as frames to skip', async () => {
    const mpg123 = standIn('mpg123');
    const file = join(dir, 'song.mp3');
    writeFileSync(file, silentMp3(100));
    const playback = new PlaySoundOutput({ player: mpg123.path, noSoundCard: true, urlFrameMs: 36 }).play({ url: `file://${file}` }, { offsetMs: 720 });
    await expect(playback.settled).resolves.toEqual({ outcome: 'finished' });
    expect(mpg123.args()).toEqual(['-q', '-o', 'dummy', '-f', '16384', '-k', '20', file]);
  });

  it('reads the ID3 tag before the start offset is skipped, and passes the tag on otherwise', async () => {
    const mpg123 = standIn('mpg123');
    const output = new PlaySoundOutput({ player: mpg123.path, noSoundCard: true });
    const fields = { title: 'Song', year: '2020' };
    const tagged = Buffer.concat([id3Tag(fields), silentMp3(180)]);
    const whole = output.play({ stream: Readable.from([tagged.subarray(0, 15), tagged.subarray(15)]), format: 'mp3' });
    const seen = events(whole);
    const metadata = extras(whole, seen);
    await whole.settled;
    expect(metadata).toEqual([fields]);
    expect(mpg123.input()).toEqual(tagged);

    const skipped = output.play({ stream: Readable.from([tagged]), format: 'mp3' }, { offsetMs: 72 });
    const later = extras(skipped, []);
    await skipped.settled;
    expect(later).toEqual([fields]);
    expect(mpg123.input()).toEqual(silentMp3(180).subarray(2 * MP3_FRAME_BYTES));
  });

  it('records attenuate() without touching the player, which keeps its volume argument', async () => {
    const mpg123 = standIn('mpg123');
    const output = new PlaySoundOutput({ player: mpg123.path, noSoundCard: true });
    const { playback, stream, seen } = await startStream(output, silentMp3(72));
    extras(playback, seen);
    playback.attenuate(true);
    playback.attenuate(true);
    expect(playback.attenuated).toBe(true);
    playback.attenuate(false);
    stream.end(silentMp3(72));
    await playback.settled;
    playback.attenuate(true);
    expect(seen.filter((e) => e !== 'underrun' && e !== 'recovered')).toEqual(['started', 'attenuation true', 'attenuation false', 'finished']);
    expect(mpg123.args().slice(0, -1)).toEqual(['-q', '-o', 'dummy', '-f', '16384']);
  });

  it('underruns when no byte went to the pipe for stallMs, and recovers with the next (on resume when it came while paused)', async () => {
    const mpg123 = standIn('mpg123');
    const output = new PlaySoundOutput({ player: mpg123.path, noSoundCard: true, stallMs: 20 });
    const { playback, stream, seen } = await startStream(output, silentMp3(72));
    extras(playback, seen);
    const stalls: number[] = [];
    playback.on('recovered', (ms) => stalls.push(ms));
    await once(playback, 'underrun');
    // Listened to before the write: a flowing stream may deliver the chunk within write().
    const recovered = once(playback, 'recovered');
    stream.write(silentMp3(72));
    await recovered;
    await once(playback, 'underrun');
    playback.pause();
    // Into the pipe while paused: the stall is over, which counts from the resume on.
    stream.write(silentMp3(72));
    await flush();
    playback.resume();
    stream.once('end', () => seen.push('end'));
    stream.end();
    await playback.settled;
    expect(seen.join(', ')).toContain('underrun, paused, resumed, recovered');
    expectStutterRules(seen);
    expect(seen.at(-1)).toBe('finished');
    expect(stalls.every((ms) => ms >= 0)).toBe(true);
    expect(mpg123.input()).toEqual(silentMp3(216));
  });

  it('never underruns while paused, before the sound starts, or after the source ended', async () => {
    const mpg123 = standIn('mpg123');
    // 1 ms: a pause that let a stall timer run would show.
    const output = new PlaySoundOutput({ player: mpg123.path, noSoundCard: true, stallMs: 1 });
    const stream = new PassThrough();
    const playback = output.play({ stream, format: 'mp3' });
    const seen = events(playback);
    extras(playback, seen);
    const started = once(playback, 'started');
    stream.write(silentMp3(72));
    await started;
    if (playback.pid !== undefined) pids.push(playback.pid);
    playback.pause();
    await processStopped(playback.pid ?? -1, true);
    await flush();
    playback.resume();
    stream.write(silentMp3(72));
    stream.once('end', () => seen.push('end'));
    stream.end();
    await playback.settled;
    expect(seen[0]).toBe('started');
    expectStutterRules(seen);
  });

  it('gives sox play the format, the volume, and the ALSA null device', async () => {
    const play = standIn('play');
    const output = new PlaySoundOutput({ player: play.path, noSoundCard: true });
    output.setVolume(25, false);
    const pcm = Buffer.alloc(3200, 1);
    await output.play({ stream: Readable.from([pcm]), format: 'pcm16k' }, { offsetMs: 50 }).settled;
    expect(play.args().slice(0, -1)).toEqual(['-q', '-v', '0.25', '-t', 'raw', '-r', '16000', '-e', 'signed-integer', '-b', '16', '-c', '1']);
    expect(play.input()).toEqual(pcm.subarray(1600));
    expect(play.env()).toBe('alsa null');
  });

  it('plays a WAV stream with the real sox play on the ALSA null device', async () => {
    const data = Buffer.alloc(3200);
    const playback = new PlaySoundOutput({ player: 'play', noSoundCard: true }).play({ stream: Readable.from([wavHeader(16000, 1, data.length), data]), format: 'wav' });
    const seen = events(playback);
    await expect(playback.settled).resolves.toEqual({ outcome: 'finished' });
    expect(seen).toEqual(['started', 'finished']);
  });
});

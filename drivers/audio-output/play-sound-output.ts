// The AudioOutput that makes sound: a player program (mpg123 by default) run through play-sound.
// play-sound takes only paths and URLs (it spawns with stdio 'ignore'), so a stream goes through a
// named pipe the player reads as its file. Pause and resume are SIGSTOP and SIGCONT, stop is
// SIGTERM. The volume is a player argument (mpg123 -f), so it applies to playbacks started after
// setVolume(), not to one already playing — and for the same reason attenuate() is only recorded:
// mpg123 changes its volume mid-play only in its remote-control mode (-R), where it no longer
// plays the file it is given nor exits at its end, which play-sound (stdio ignored) cannot drive.
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import playSound from 'play-sound';
import { skipAudio } from './audio-skip';
import { Fifo } from './fifo';
import { Id3Reader } from './id3';
import { type AudioFormat, type AudioOutput, AudioOutputError, type AudioSource, type PlayOptions } from './output';
import { afterReturn, DEFAULT_STALL_MS, PlaybackBase } from './playback-base';

export interface PlaySoundOutputOptions {
  /** The player program, a name on PATH or a path (default 'mpg123'). */
  readonly player?: string;
  /** Extra arguments, after ours and before the file. */
  readonly playerArgs?: readonly string[];
  /**
   * Play to no device (mpg123 `-o dummy`; sox `play` to the ALSA null device). Default: true when
   * /dev/snd does not exist — mpg123 with its default output and no sound card spins at 100% CPU.
   */
  readonly noSoundCard?: boolean;
  /** Ms between `progress` events while playing (default 100). */
  readonly progressEveryMs?: number;
  /**
   * Ms of audio in one frame of a URL source, to turn a start offset into mpg123 `-k` frames: the
   * player fetches the URL, so the frames are not seen here (default 26.12, MPEG-1 at 44.1 kHz).
   */
  readonly urlFrameMs?: number;
  /** Ms between stop()'s SIGTERM and a SIGKILL for a player that is still running (default 2000). */
  readonly killAfterMs?: number;
  /** Ms without bytes for the pipe after which a started stream playback reports an underrun (default 500). */
  readonly stallMs?: number;
}

/** What we know of a player program: the formats it takes from a pipe and the arguments it needs. */
interface PlayerProfile {
  readonly installHint: string;
  readonly formats: readonly AudioFormat[];
  readonly baseArgs: readonly string[];
  readonly noSoundCard: { readonly args: readonly string[]; readonly env: Readonly<Record<string, string>> };
  formatArgs(format: AudioFormat | 'url'): string[];
  volumeArgs(volume: number, muted: boolean): string[];
}

const PROFILES: Readonly<Record<string, PlayerProfile>> = {
  mpg123: {
    installHint: 'apt-get install mpg123',
    formats: ['mp3'],
    baseArgs: ['-q'],
    // `-o null` does not exist (exit 255); `dummy` decodes and discards.
    noSoundCard: { args: ['-o', 'dummy'], env: {} },
    formatArgs: () => [],
    // -f is a soft gain, 32768 = as recorded.
    volumeArgs: (volume, muted) => ['-f', String(muted ? 0 : Math.round((clampVolume(volume) / 100) * 32768))],
  },
  play: {
    installHint: 'apt-get install sox',
    formats: ['wav', 'pcm16k'],
    baseArgs: ['-q'],
    noSoundCard: { args: [], env: { AUDIODRIVER: 'alsa', AUDIODEV: 'null' } },
    formatArgs: (format) =>
      format === 'pcm16k' ? ['-t', 'raw', '-r', '16000', '-e', 'signed-integer', '-b', '16', '-c', '1'] : format === 'wav' ? ['-t', 'wav'] : [],
    volumeArgs: (volume, muted) => ['-v', String(muted ? 0 : clampVolume(volume) / 100)],
  },
};

const clampVolume = (v: number): number => Math.min(100, Math.max(0, v));

/** The full path of an executable `name` (a bare name is looked up on PATH). */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  const isExecutable = (file: string): boolean => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    if (isExecutable(file)) return file;
  }
  return undefined;
}

/**
 * play-sound as it behaves: @types/play-sound allows only its list of player names, and types the
 * callback's argument as an ExecException, when it is the exit status (a number) or null after a
 * kill. We listen to the child's own 'close' instead, which tells a kill apart from a clean exit.
 */
interface PlaySoundPlayer {
  play(what: string, options: Readonly<Record<string, unknown>>, next: () => void): ChildProcess | null;
}
const createPlayer = playSound as unknown as (options: { player: string }) => PlaySoundPlayer;

/**
 * One run of the player. A stream's ID3 metadata is read from its bytes before they go to the pipe.
 * Stutter is approximate: the player's own buffer (and the pipe's) cannot be seen from here, so an
 * underrun is reported when no byte has been written to the pipe for `stallMs` while the source is
 * open and the pipe not full — the player may still have audio in hand — and `recovered` when bytes
 * come again; the offset, kept by the clock, goes on meanwhile. A URL the player fetches itself
 * has neither.
 */
export class PlaySoundPlayback extends PlaybackBase {
  private child: ChildProcess | undefined;
  private fifo: Fifo | undefined;
  private socket: Socket | undefined;
  private readonly abort = new AbortController();
  private stopRequested = false;
  private sourceError: AudioOutputError | undefined;
  private spawnError: NodeJS.ErrnoException | undefined;
  private startedAt: number | undefined;
  private pausedSince: number | undefined;
  private pausedMs = 0;
  private endedAt: number | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private cleanedUp = false;
  /** Waiting for the pipe to drain: the player has plenty to play, whatever the source does. */
  private pipeFull = false;
  private sourceEnded = false;
  /** Bytes went to the pipe during an underrun while paused: it recovers on resume. */
  private refilledWhilePaused = false;

  constructor(
    private readonly player: string,
    private readonly startOffsetMs: number,
    private readonly settings: { readonly progressEveryMs: number; readonly killAfterMs: number; readonly stallMs: number },
    private readonly stream: Readable | undefined,
  ) {
    super();
    // From here on the stream is ours to read or drain: an error on it must never go unhandled.
    stream?.on('error', (e: Error) => {
      if (this.isSettled) return;
      this.sourceError = new AudioOutputError('SOURCE_FAILED', `the audio source failed: ${e.message}`);
      if (this.child === undefined) this.fail(this.sourceError);
      else this.kill();
    });
  }

  get offsetMs(): number {
    if (this.startedAt === undefined) return this.startOffsetMs;
    const now = this.endedAt ?? Date.now();
    const paused = this.pausedMs + (this.pausedSince !== undefined ? now - this.pausedSince : 0);
    return this.startOffsetMs + Math.max(0, now - this.startedAt - paused);
  }

  /** The player's process id while it runs (tests check it is gone). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The named pipe a stream goes through, while it exists. */
  get fifoPath(): string | undefined {
    return this.fifo?.path;
  }

  /** Fails before a player runs (missing player, format it cannot take). */
  failBeforeStart(error: AudioOutputError): void {
    this.cleanup();
    afterReturn(() => this.fail(error));
  }

  /** Runs the player on a URL (or file path). */
  startUrl(spawn: (what: string) => ChildProcess | null, what: string): void {
    const child = this.watch(spawn(what));
    child?.once('spawn', () => this.begin());
  }

  /** Runs the player on a named pipe and writes the stream into it, `format` skipped to the start offset. */
  startStream(spawn: (what: string) => ChildProcess | null, format: AudioFormat): void {
    const stream = this.stream;
    if (stream === undefined) return;
    try {
      this.fifo = Fifo.create(`audio.${format === 'pcm16k' ? 'raw' : format}`);
    } catch (e) {
      return this.failBeforeStart(new AudioOutputError('PLAYER_FAILED', (e as Error).message));
    }
    if (this.watch(spawn(this.fifo.path)) === undefined) return;
    this.fifo.openWriter(this.abort.signal).then(
      (socket) => this.write(socket, stream, format),
      (e: Error) => {
        // Aborted: the player has exited (or failed to spawn), which decides the outcome.
        if (!this.abort.signal.aborted) {
          this.sourceError = new AudioOutputError('PLAYER_FAILED', `cannot open the pipe to ${this.player}: ${e.message}`);
          this.kill();
        }
      },
    );
  }

  stop(): void {
    if (this.isSettled || this.stopRequested) return;
    this.stopRequested = true;
    if (this.child === undefined) this.settle({ outcome: 'stopped' });
    else this.kill();
  }

  pause(): void {
    if (this.isSettled || this.pausedSince !== undefined || this.stopRequested) return;
    this.pausedSince = Date.now();
    this.signal('SIGSTOP');
    this.clearStallTimer();
    this.markPaused();
  }

  resume(): void {
    if (this.isSettled || this.pausedSince === undefined) return;
    this.pausedMs += Date.now() - this.pausedSince;
    this.pausedSince = undefined;
    this.signal('SIGCONT');
    this.markResumed();
    if (this.refilledWhilePaused) this.markRecovered();
    this.refilledWhilePaused = false;
    this.watchSource();
  }

  /** (Re)starts the wait for source bytes, when the player could be starved by it. */
  private watchSource(): void {
    if (this.socket === undefined || this.cleanedUp || this.stopRequested || this.sourceError !== undefined || this.sourceEnded || this.pipeFull) this.clearStallTimer();
    else this.armStallTimer(this.settings.stallMs);
  }

  private watch(child: ChildProcess | null): ChildProcess | undefined {
    if (child === null) {
      this.failBeforeStart(new AudioOutputError('PLAYER_FAILED', `cannot run ${this.player}`));
      return undefined;
    }
    this.child = child;
    child.on('error', (e: NodeJS.ErrnoException) => {
      // Also raised when a signal cannot be sent; only a failed spawn ends the playback here.
      if (e.syscall === undefined || !e.syscall.startsWith('spawn')) return;
      this.spawnError = e;
      this.finish();
    });
    child.on('close', () => this.finish());
    return child;
  }

  private write(socket: Socket, stream: Readable, format: AudioFormat): void {
    if (this.cleanedUp) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    // EPIPE when the player exits before reading everything: its exit status tells what happened.
    socket.on('error', () => undefined);
    const skipper = skipAudio(format, this.startOffsetMs);
    // Read before the skip: the tag comes before the audio, whatever the start offset.
    const id3 = format === 'mp3' ? new Id3Reader() : undefined;
    let wrote = false;
    const send = (bytes: Buffer): void => {
      if (bytes.length === 0 || this.cleanedUp) return;
      const first = !wrote;
      wrote = true;
      if (this.isPaused && this.isUnderrun) this.refilledWhilePaused = true;
      this.markRecovered();
      const more = socket.write(bytes, first ? () => this.begin() : undefined);
      if (!more) {
        this.pipeFull = true;
        stream.pause();
        socket.once('drain', () => {
          this.pipeFull = false;
          stream.resume();
          this.watchSource();
        });
      }
      this.watchSource();
    };
    stream.on('data', (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const metadata = id3 !== undefined && !id3.done && !this.cleanedUp ? id3.push(bytes) : undefined;
      if (metadata !== undefined) this.markMetadata(metadata);
      send(skipper.push(bytes));
    });
    stream.once('end', () => {
      this.sourceEnded = true;
      send(skipper.end());
      this.watchSource();
      if (!this.cleanedUp) socket.end();
    });
  }

  /** Sound begins: the player runs and has its first bytes (or, for a URL, has started). */
  private begin(): void {
    if (this.cleanedUp || this.isSettled || this.startedAt !== undefined) return;
    this.startedAt = Date.now();
    this.progressTimer = setInterval(() => {
      if (this.pausedSince === undefined) this.emit('progress', this.offsetMs);
    }, this.settings.progressEveryMs);
    this.progressTimer.unref();
    this.markStarted();
    this.watchSource();
  }

  private signal(signal: NodeJS.Signals): void {
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill(signal);
  }

  private kill(): void {
    this.clearStallTimer();
    this.signal('SIGTERM');
    // A stopped process keeps a SIGTERM pending until it runs again.
    if (this.pausedSince !== undefined) this.signal('SIGCONT');
    if (this.killTimer === undefined) {
      this.killTimer = setTimeout(() => this.signal('SIGKILL'), this.settings.killAfterMs);
      this.killTimer.unref();
    }
  }

  /** The player has exited (or never ran): clean up, then report how it went. */
  private finish(): void {
    const child = this.child;
    this.cleanup();
    if (this.isSettled) return;
    if (this.spawnError !== undefined) {
      const e = this.spawnError;
      return void this.fail(
        e.code === 'ENOENT' ? missingPlayer(this.player) : new AudioOutputError('PLAYER_FAILED', `cannot run ${this.player}: ${e.message}`),
      );
    }
    if (this.stopRequested) return void this.settle({ outcome: 'stopped' });
    if (this.sourceError !== undefined) return void this.fail(this.sourceError);
    const code = child?.exitCode ?? null;
    const signal = child?.signalCode ?? null;
    if (code !== null && code !== 0) return void this.fail(new AudioOutputError('PLAYER_FAILED', `${this.player} exited with status ${code}`));
    if (signal !== null) return void this.fail(new AudioOutputError('PLAYER_FAILED', `${this.player} was killed by ${signal}`));
    this.settle({ outcome: 'finished' });
  }

  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.endedAt = Date.now();
    this.abort.abort();
    this.clearStallTimer();
    this.socket?.destroy();
    this.fifo?.remove();
    this.fifo = undefined;
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    if (this.killTimer !== undefined) clearTimeout(this.killTimer);
    // What the player did not take is drained, so the stream's writer never blocks.
    this.stream?.resume();
  }
}

function missingPlayer(player: string): AudioOutputError {
  const hint = PROFILES[basename(player)]?.installHint;
  return new AudioOutputError('PLAYER_MISSING', hint !== undefined ? `${player} is not installed: ${hint}` : `${player} is not installed (not found on PATH)`);
}

export class PlaySoundOutput implements AudioOutput {
  readonly player: string;
  readonly noSoundCard: boolean;
  volume = 50;
  muted = false;
  private readonly profile: PlayerProfile | undefined;
  private playerPath: string | undefined;

  constructor(private readonly options: PlaySoundOutputOptions = {}) {
    this.player = options.player ?? 'mpg123';
    this.noSoundCard = options.noSoundCard ?? !existsSync('/dev/snd');
    this.profile = PROFILES[basename(this.player)];
    this.playerPath = findExecutable(this.player);
  }

  /** Whether the player program is installed (looked up again until it is found). */
  get available(): boolean {
    this.playerPath ??= findExecutable(this.player);
    return this.playerPath !== undefined;
  }

  /** Takes effect for playbacks started afterwards: the player gets the volume as an argument. */
  setVolume(volume: number, muted: boolean): void {
    this.volume = volume;
    this.muted = muted;
  }

  play(source: AudioSource, options: PlayOptions = {}): PlaySoundPlayback {
    const offsetMs = Math.max(0, options.offsetMs ?? 0);
    const playback = new PlaySoundPlayback(
      this.player,
      offsetMs,
      {
        progressEveryMs: this.options.progressEveryMs ?? 100,
        killAfterMs: this.options.killAfterMs ?? 2000,
        stallMs: this.options.stallMs ?? DEFAULT_STALL_MS,
      },
      'stream' in source ? source.stream : undefined,
    );
    if (!this.available) {
      playback.failBeforeStart(missingPlayer(this.player));
      return playback;
    }
    const format = 'stream' in source ? source.format : 'url';
    if (format !== 'url' && this.profile !== undefined && !this.profile.formats.includes(format)) {
      playback.failBeforeStart(new AudioOutputError('PLAYER_FAILED', `${this.player} cannot play ${format} (it plays ${this.profile.formats.join(', ')})`));
      return playback;
    }
    const args = [...this.args(format, offsetMs), ...(this.options.playerArgs ?? [])];
    const env = this.noSoundCard && this.profile !== undefined ? this.profile.noSoundCard.env : {};
    const player = createPlayer({ player: this.player });
    // play-sound takes the per-player arguments under the player's name; the other keys go to spawn.
    const spawn = (what: string): ChildProcess | null =>
      player.play(what, { [this.player]: args, ...(Object.keys(env).length > 0 ? { env: { ...process.env, ...env } } : {}) }, () => undefined);
    if ('url' in source) playback.startUrl(spawn, source.url.startsWith('file:') ? fileURLToPath(source.url) : source.url);
    else playback.startStream(spawn, source.format);
    return playback;
  }

  private args(format: AudioFormat | 'url', offsetMs: number): string[] {
    const profile = this.profile;
    if (profile === undefined) return [];
    const args = [...profile.baseArgs, ...(this.noSoundCard ? profile.noSoundCard.args : []), ...profile.volumeArgs(this.volume, this.muted), ...profile.formatArgs(format)];
    // A stream is skipped to the offset before it reaches the player; a URL the player fetches itself.
    if (format === 'url' && offsetMs > 0 && basename(this.player) === 'mpg123') {
      args.push('-k', String(Math.round(offsetMs / (this.options.urlFrameMs ?? (1152 / 44.1)))));
    }
    return args;
  }
}

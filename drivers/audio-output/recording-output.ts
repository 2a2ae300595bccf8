// An AudioOutput for tests: plays nothing, keeps everything — what was played, the bytes and when
// they arrived, when the sound started and ended and how, at what volume. Paced, it takes as long
// as the audio lasts (driven by setTimeout, so fake timers or a simulated clock can run it), so
// offsets and progress behave as with a real player.
import type { Readable } from 'node:stream';
import { audioMeter, type AudioMeter } from './audio-meter';
import { fetchUrl as defaultFetchUrl, type FetchUrl } from './fetch-url';
import { Id3Reader } from './id3';
import { type AudioFormat, type AudioOutput, AudioOutputError, type AudioSource, type PlayOptions, type StreamMetadata } from './output';
import { afterReturn, DEFAULT_STALL_MS, type PlaybackEvents, type PlaybackOutcome, type PlaybackResult, PlaybackBase } from './playback-base';

export interface RecordedChunk {
  readonly bytes: Buffer;
  /** When it arrived (the output's `now`). */
  readonly at: number;
}

export interface RecordedEvent {
  readonly event: keyof PlaybackEvents;
  readonly at: number;
  /** The playback's offset when the event was emitted. */
  readonly offsetMs: number;
  /** `recovered`: how long it stalled. */
  readonly stallMs?: number;
  /** `metadata`: what the stream carried. */
  readonly metadata?: StreamMetadata;
  /** `attenuation`: the new flag. */
  readonly attenuated?: boolean;
}

export type RecordedSource =
  | { readonly kind: 'stream'; readonly format: AudioFormat }
  /** The format is guessed from the URL's extension (.wav, .pcm or .raw; anything else is mp3). */
  | { readonly kind: 'url'; readonly url: string; readonly format: AudioFormat };

export interface Recording {
  /** Position in `recordings`. */
  readonly index: number;
  readonly source: RecordedSource;
  /** PlayOptions.offsetMs. */
  readonly startOffsetMs: number;
  /** The output's volume and mute state when play() was called. */
  readonly volume: number;
  readonly muted: boolean;
  /** Every chunk that arrived before the playback ended. */
  readonly chunks: readonly RecordedChunk[];
  /** Bytes in `chunks`. */
  readonly bytes: number;
  /** Ms of audio in `chunks` (MP3 by its frames). */
  readonly durationMs: number;
  /** When the first chunk was consumed: the sound starts. */
  readonly startedAt?: number;
  readonly endedAt?: number;
  readonly outcome?: PlaybackOutcome;
  readonly error?: AudioOutputError;
  /** Everything the playback emitted, in order. */
  readonly events: readonly RecordedEvent[];
  readonly playback: RecordingPlayback;
  /** The bytes of `chunks`, joined. */
  audio(): Buffer;
}

export interface RecordingOutputOptions {
  /** Take as long as the audio lasts (default false: consume bytes as fast as they arrive). */
  readonly paced?: boolean;
  /** A player failure to simulate for this source, emitted right after play() returns. */
  readonly failOn?: (source: RecordedSource) => AudioOutputError | undefined;
  /** Fetches URL sources (default: http/https/file with node's own modules). */
  readonly fetchUrl?: FetchUrl;
  /** The clock for timestamps (default Date.now). */
  readonly now?: () => number;
  /** Audio ms between `progress` events (default 100). */
  readonly progressEveryMs?: number;
  /**
   * Not paced: ms without a chunk after which a started playback reports an underrun (default
   * 500). Paced playbacks know when they run out, and report it then.
   */
  readonly stallMs?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function formatOfUrl(url: string): AudioFormat {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // Not a URL: guess from the string itself.
  }
  if (/\.wav$/i.test(path)) return 'wav';
  if (/\.(pcm|raw)$/i.test(path)) return 'pcm16k';
  return 'mp3';
}

/**
 * One playback of a RecordingOutput. The start offset works as in a real player: that much audio
 * is skipped, and offsets count on from it. Paused, it stops consuming; a step of audio cut short
 * by pause() is played again from its start on resume (steps are at most `progressEveryMs`), so
 * the offset stays exact. Paced, it underruns when it has played all it has and the source is
 * open (the offset holds until audio comes), and recovers when audio to play arrives — a chunk
 * that does not complete an MP3 frame is not yet audio. Not paced, it underruns after `stallMs`
 * without a chunk. attenuate() is only recorded (the `attenuation` event, `attenuated`).
 */
export class RecordingPlayback extends PlaybackBase {
  readonly recording: Recording;
  private readonly record: Mutable<Recording>;
  private readonly meter: AudioMeter;
  private readonly arrivedMeter: AudioMeter;
  private readonly queue: Buffer[] = [];
  private sourceEnded = false;
  private meterEnded = false;
  private timer: NodeJS.Timeout | undefined;
  /** Audio still to skip for the start offset. */
  private skipMs: number;
  /** Audio consumed past the start offset. */
  private audibleMs = 0;
  /** Audio played past the start offset (= audibleMs when not paced). */
  private playedMs = 0;
  private nextProgressAt: number;
  private stream: Readable | undefined;
  private readonly id3: Id3Reader | undefined;

  constructor(
    index: number,
    source: RecordedSource,
    startOffsetMs: number,
    volume: { volume: number; muted: boolean },
    private readonly options: {
      readonly paced: boolean;
      readonly now: () => number;
      readonly progressEveryMs: number;
      readonly stallMs: number;
      /** When the source is a URL, destroying the stream ends its download. */
      readonly ownsStream: boolean;
    },
  ) {
    super(options.now);
    this.skipMs = startOffsetMs;
    this.id3 = source.format === 'mp3' ? new Id3Reader() : undefined;
    this.nextProgressAt = options.progressEveryMs;
    this.meter = audioMeter(source.format);
    this.arrivedMeter = audioMeter(source.format);
    const chunks: RecordedChunk[] = [];
    this.record = {
      index,
      source,
      startOffsetMs,
      volume: volume.volume,
      muted: volume.muted,
      chunks,
      bytes: 0,
      durationMs: 0,
      events: [],
      playback: this,
      audio: () => Buffer.concat(chunks.map((c) => c.bytes)),
    };
    this.recording = this.record;
    const log = (event: keyof PlaybackEvents, detail: Pick<RecordedEvent, 'stallMs' | 'metadata' | 'attenuated'> = {}): void => {
      (this.record.events as RecordedEvent[]).push({ event, at: this.options.now(), offsetMs: this.offsetMs, ...detail });
    };
    const plain: (keyof PlaybackEvents)[] = ['started', 'progress', 'paused', 'resumed', 'underrun', 'finished', 'stopped', 'failed'];
    // Attached first, so the log has each event before the other listeners run.
    for (const event of plain) this.on(event, () => log(event));
    this.on('recovered', (stallMs) => log('recovered', { stallMs }));
    this.on('metadata', (metadata) => log('metadata', { metadata }));
    this.on('attenuation', (attenuated) => log('attenuation', { attenuated }));
  }

  get offsetMs(): number {
    return this.record.startOffsetMs + this.playedMs;
  }

  /** Starts reading the source. */
  attach(stream: Readable): void {
    this.stream = stream;
    stream.on('data', (chunk: Buffer | string) => {
      if (this.isSettled) return;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      (this.record.chunks as RecordedChunk[]).push({ bytes, at: this.options.now() });
      this.record.bytes += bytes.length;
      this.record.durationMs += this.arrivedMeter.push(bytes);
      if (this.id3 !== undefined && !this.id3.done) {
        const metadata = this.id3.push(bytes);
        if (metadata !== undefined) this.markMetadata(metadata);
      }
      this.queue.push(bytes);
      this.pump();
    });
    stream.on('end', () => {
      if (this.isSettled) return;
      this.record.durationMs += this.arrivedMeter.end();
      this.sourceEnded = true;
      this.pump();
    });
    // Stays attached after the end: a late error must not go unhandled.
    stream.on('error', (e: Error) => this.fail(new AudioOutputError('SOURCE_FAILED', `the audio source failed: ${e.message}`)));
  }

  /** Fails the playback right away (a simulated player failure, a URL that cannot be fetched). */
  failNow(error: AudioOutputError): void {
    this.fail(error);
  }

  stop(): void {
    this.settle({ outcome: 'stopped' });
  }

  pause(): void {
    if (this.isSettled || this.isPaused) return;
    // Held before `paused` is emitted, so a listener that resumes at once finds it ready to go on.
    this.clearTimer();
    this.clearStallTimer();
    this.markPaused();
  }

  resume(): void {
    if (!this.markResumed()) return;
    this.pump();
  }

  protected override onSettled(result: PlaybackResult): void {
    this.record.endedAt = this.options.now();
    this.record.outcome = result.outcome;
    if (result.outcome === 'failed') this.record.error = result.error;
    this.clearTimer();
    this.queue.length = 0;
    const stream = this.stream;
    if (stream === undefined) return;
    // A URL download is ours to end; a caller's stream is drained, so its writer never blocks on us.
    if (this.options.ownsStream) stream.destroy();
    else stream.resume();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Consumes what has arrived: all of it, or (paced) the next chunk once the audio before it has played. */
  private pump(): void {
    while (!this.isSettled && !this.isPaused && this.timer === undefined) {
      if (this.options.paced && this.audibleMs > this.playedMs) {
        this.markRecovered();
        const step = Math.min(this.audibleMs - this.playedMs, this.nextProgressAt - this.playedMs);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.playedMs += step;
          this.progressIfDue();
          this.pump();
        }, step);
        return;
      }
      const chunk = this.queue.shift();
      if (chunk !== undefined) {
        if (!this.options.paced) this.markRecovered();
        this.consume(this.meter.push(chunk));
        if (!this.hasStarted) {
          this.record.startedAt = this.options.now();
          this.markStarted();
        }
        continue;
      }
      if (!this.sourceEnded) {
        // Waiting for the source while it should be playing: paced, it has run dry right now.
        if (this.options.paced) this.markUnderrun();
        else this.armStallTimer(this.options.stallMs);
        return;
      }
      this.clearStallTimer();
      if (!this.meterEnded) {
        this.meterEnded = true;
        this.consume(this.meter.end());
        continue;
      }
      this.settle({ outcome: 'finished' });
    }
  }

  private consume(ms: number): void {
    const skipped = Math.min(this.skipMs, ms);
    this.skipMs -= skipped;
    this.audibleMs += ms - skipped;
    if (!this.options.paced) {
      this.playedMs = this.audibleMs;
      this.progressIfDue();
    }
  }

  private progressIfDue(): void {
    if (this.playedMs < this.nextProgressAt) return;
    const every = this.options.progressEveryMs;
    this.nextProgressAt = (Math.floor(this.playedMs / every) + 1) * every;
    this.emit('progress', this.offsetMs);
  }
}

export class RecordingOutput implements AudioOutput {
  /** Every playback, in the order play() was called. */
  readonly recordings: Recording[] = [];
  volume = 50;
  muted = false;
  private readonly waiters: { index: number; resolve: (r: Recording) => void }[] = [];
  private readonly now: () => number;

  constructor(private readonly options: RecordingOutputOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  setVolume(volume: number, muted: boolean): void {
    this.volume = volume;
    this.muted = muted;
  }

  play(source: AudioSource, options: PlayOptions = {}): RecordingPlayback {
    const recorded: RecordedSource =
      'url' in source ? { kind: 'url', url: source.url, format: formatOfUrl(source.url) } : { kind: 'stream', format: source.format };
    const playback = new RecordingPlayback(
      this.recordings.length,
      recorded,
      Math.max(0, options.offsetMs ?? 0),
      { volume: this.volume, muted: this.muted },
      {
        paced: this.options.paced ?? false,
        now: this.now,
        progressEveryMs: this.options.progressEveryMs ?? 100,
        stallMs: this.options.stallMs ?? DEFAULT_STALL_MS,
        ownsStream: 'url' in source,
      },
    );
    this.recordings.push(playback.recording);
    const failure = this.options.failOn?.(recorded);
    if (failure !== undefined) {
      // The player never reads it: drained, so its writer does not block.
      if ('stream' in source) source.stream.on('error', () => undefined).resume();
      afterReturn(() => playback.failNow(failure));
    } else if ('stream' in source) {
      playback.attach(source.stream);
    } else {
      try {
        playback.attach((this.options.fetchUrl ?? defaultFetchUrl)(source.url));
      } catch (e) {
        afterReturn(() => playback.failNow(new AudioOutputError('SOURCE_FAILED', `cannot fetch ${source.url}: ${(e as Error).message}`)));
      }
    }
    for (const w of this.waiters.filter((x) => x.index < this.recordings.length)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(this.recordings[w.index]);
    }
    return playback;
  }

  /** The recording at `index` (0 = the first play()), once play() has been called that often. */
  waitForRecording(index: number): Promise<Recording> {
    const r = this.recordings[index];
    if (r !== undefined) return Promise.resolve(r);
    return new Promise((resolve) => this.waiters.push({ index, resolve }));
  }

  /** The most recent recording (undefined before the first play()). */
  get last(): Recording | undefined {
    return this.recordings.at(-1);
  }
}

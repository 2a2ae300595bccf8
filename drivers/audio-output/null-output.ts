// An AudioOutput with nowhere to play, for a device with no speaker: streams are read to their
// end (so their writers never block), and a playback starts with the first byte and finishes with
// the last, its offset following the audio seen. URLs are not fetched: they start and finish at
// once. It remembers the volume it was given, and each playback its attenuation flag.
import type { Readable } from 'node:stream';
import { audioMeter } from './audio-meter';
import { Id3Reader } from './id3';
import { type AudioFormat, type AudioOutput, AudioOutputError, type AudioSource, type PlayOptions } from './output';
import { afterReturn, DEFAULT_STALL_MS, type PlaybackResult, PlaybackBase } from './playback-base';

export interface NullOutputOptions {
  /** Ms without a byte after which a started stream playback reports an underrun (default 500). */
  readonly stallMs?: number;
}

/** A stream's metadata (MP3 ID3 tags) is read as it drains; a stream silent for `stallMs` underruns. */
export class NullPlayback extends PlaybackBase {
  private audioMs = 0;
  private ended = false;

  constructor(
    private readonly startOffsetMs: number,
    private readonly stream: Readable | undefined,
    private readonly stallMs = DEFAULT_STALL_MS,
  ) {
    super();
  }

  /** As a player that skipped to the start offset: the audio before it does not move the offset. */
  get offsetMs(): number {
    return Math.max(this.startOffsetMs, this.audioMs);
  }

  /** Drains `format` audio from the stream. */
  drain(format: AudioFormat): void {
    const stream = this.stream;
    if (stream === undefined) return;
    const meter = audioMeter(format);
    const id3 = format === 'mp3' ? new Id3Reader() : undefined;
    stream.on('data', (chunk: Buffer | string) => {
      if (this.isSettled) return;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const metadata = id3 !== undefined && !id3.done ? id3.push(bytes) : undefined;
      if (metadata !== undefined) this.markMetadata(metadata);
      this.markRecovered();
      this.audioMs += meter.push(bytes);
      this.markStarted();
      this.armStallTimer(this.stallMs);
    });
    stream.on('end', () => {
      this.audioMs += meter.end();
      this.ended = true;
      this.clearStallTimer();
      if (!this.isPaused) this.settle({ outcome: 'finished' });
    });
    stream.on('error', (e: Error) => this.fail(new AudioOutputError('SOURCE_FAILED', `the audio source failed: ${e.message}`)));
  }

  /** A URL: nothing to read, so it starts and finishes right after play() returns. */
  playNothing(): void {
    afterReturn(() => {
      this.markStarted();
      this.ended = true;
      if (!this.isPaused) this.settle({ outcome: 'finished' });
    });
  }

  stop(): void {
    this.settle({ outcome: 'stopped' });
  }

  pause(): void {
    if (this.isSettled || this.isPaused) return;
    // Held before `paused` is emitted, so a listener that resumes at once finds it ready to go on.
    this.clearStallTimer();
    this.stream?.pause();
    this.markPaused();
  }

  resume(): void {
    if (!this.markResumed()) return;
    if (this.ended) return void this.settle({ outcome: 'finished' });
    this.armStallTimer(this.stallMs);
    this.stream?.resume();
  }

  protected override onSettled(_result: PlaybackResult): void {
    // Keep draining after a stop, so the writer never blocks.
    this.stream?.resume();
  }
}

export class NullOutput implements AudioOutput {
  volume = 50;
  muted = false;

  constructor(private readonly options: NullOutputOptions = {}) {}

  setVolume(volume: number, muted: boolean): void {
    this.volume = volume;
    this.muted = muted;
  }

  play(source: AudioSource, options: PlayOptions = {}): NullPlayback {
    const offset = Math.max(0, options.offsetMs ?? 0);
    if ('url' in source) {
      const playback = new NullPlayback(offset, undefined);
      playback.playNothing();
      return playback;
    }
    const playback = new NullPlayback(offset, source.stream, this.options.stallMs ?? DEFAULT_STALL_MS);
    playback.drain(source.format);
    return playback;
  }
}

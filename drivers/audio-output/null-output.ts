// An AudioOutput with nowhere to play, for a device with no speaker: streams are read to their
// end (so their writers never block), and a playback starts with the first byte and finishes with
// the last, its offset following the audio seen. URLs are not fetched: they start and finish at
// once. It remembers the volume it was given.
import type { Readable } from 'node:stream';
import { audioMeter } from './audio-meter';
import { type AudioOutput, AudioOutputError, type AudioSource, type PlayOptions } from './output';
import { afterReturn, type PlaybackResult, PlaybackBase } from './playback-base';

export class NullPlayback extends PlaybackBase {
  private audioMs = 0;
  private paused = false;
  private ended = false;

  constructor(
    private readonly startOffsetMs: number,
    private readonly stream: Readable | undefined,
  ) {
    super();
  }

  /** As a player that skipped to the start offset: the audio before it does not move the offset. */
  get offsetMs(): number {
    return Math.max(this.startOffsetMs, this.audioMs);
  }

  /** Drains `format` audio from the stream. */
  drain(format: 'mp3' | 'wav' | 'pcm16k'): void {
    const stream = this.stream;
    if (stream === undefined) return;
    const meter = audioMeter(format);
    stream.on('data', (chunk: Buffer | string) => {
      if (this.isSettled) return;
      this.audioMs += meter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      this.markStarted();
    });
    stream.on('end', () => {
      this.audioMs += meter.end();
      this.ended = true;
      if (!this.paused) this.settle({ outcome: 'finished' });
    });
    stream.on('error', (e: Error) => this.fail(new AudioOutputError('SOURCE_FAILED', `the audio source failed: ${e.message}`)));
  }

  /** A URL: nothing to read, so it starts and finishes right after play() returns. */
  playNothing(): void {
    afterReturn(() => {
      this.markStarted();
      this.ended = true;
      if (!this.paused) this.settle({ outcome: 'finished' });
    });
  }

  stop(): void {
    this.settle({ outcome: 'stopped' });
  }

  pause(): void {
    if (this.isSettled || this.paused) return;
    this.paused = true;
    this.stream?.pause();
    this.emit('paused');
  }

  resume(): void {
    if (this.isSettled || !this.paused) return;
    this.paused = false;
    this.emit('resumed');
    if (this.ended) this.settle({ outcome: 'finished' });
    else this.stream?.resume();
  }

  protected override onSettled(_result: PlaybackResult): void {
    // Keep draining after a stop, so the writer never blocks.
    this.stream?.resume();
  }
}

export class NullOutput implements AudioOutput {
  volume = 50;
  muted = false;

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
    const playback = new NullPlayback(offset, source.stream);
    playback.drain(source.format);
    return playback;
  }
}

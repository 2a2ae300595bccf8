// Drivers for the device process that note when the runtime calls them (epochMs), so latencies
// end at a real seam — the driver call — without any hook in the runtime: the output's volume
// being set and its first audio, the microphone's frames leaving it and its capture being stopped.
import { Readable } from 'node:stream';
import { NullOutput, type NullPlayback } from '../../drivers/audio-output/null-output';
import type { AudioSource, PlayOptions } from '../../drivers/audio-output/output';
import { FRAME_BYTES, type Capture, type Microphone } from '../../drivers/microphone/microphone';
import { StreamMicrophone } from '../../drivers/microphone/stream-microphone';
import { epochMs } from './clock';

export interface VolumeCall {
  readonly at: number;
  readonly volume: number;
}

export interface PlayRecord {
  /** play() was called. */
  readonly at: number;
  /** The first audio bytes reached the driver (it was handed audio). */
  firstChunkAt?: number;
  /** The playback reported `started`. */
  startedAt?: number;
}

/** A NullOutput (plays nowhere, drains at once) that notes every volume call and playback. */
export class TimedOutput extends NullOutput {
  volumeCalls: VolumeCall[] = [];
  plays: PlayRecord[] = [];
  /** Called after each volume call is noted (with how many there are now). */
  onVolume: ((count: number) => void) | undefined;

  /** Forget what was recorded so far (a long run keeps only what it needs). */
  clear(): void {
    this.volumeCalls = [];
    this.plays = [];
  }

  override setVolume(volume: number, muted: boolean): void {
    const at = epochMs();
    super.setVolume(volume, muted);
    this.volumeCalls.push({ at, volume });
    this.onVolume?.(this.volumeCalls.length);
  }

  override play(source: AudioSource, options?: PlayOptions): NullPlayback {
    const record: PlayRecord = { at: epochMs() };
    this.plays.push(record);
    const playback = super.play(source, options);
    // Prepended, so it runs before the driver's own reader of the same chunk.
    if ('stream' in source) source.stream.prependOnceListener('data', () => (record.firstChunkAt ??= epochMs()));
    playback.on('started', () => (record.startedAt ??= epochMs()));
    return playback;
  }
}

export interface CaptureRecord {
  /** When each 10 ms frame left the microphone driver (was pushed into the capture stream). */
  readonly frames: number[];
  /** When the runtime stopped the capture. */
  stoppedAt?: number;
}

/**
 * A 16 kHz microphone over StreamMicrophone (the driver a firmware's own capture uses), fed by a
 * source that produces one 320-byte frame every 10 ms in real time (`paced`), or `burst` frames
 * at once and then nothing (a capture that AVS ends at once). Each capture is recorded.
 */
export class BenchMicrophone implements Microphone {
  readonly captures: CaptureRecord[] = [];
  private readonly inner = new StreamMicrophone(() => this.source());
  private current: CaptureRecord = { frames: [] };

  constructor(private readonly mode: { readonly paced: true } | { readonly burst: number }) {}

  /** Forget the captures recorded so far (a long run keeps only what it needs). */
  clear(): void {
    this.captures.length = 0;
  }

  open(): Capture {
    const record: CaptureRecord = { frames: [] };
    this.current = record;
    this.captures.push(record);
    const capture = this.inner.open();
    return {
      stream: capture.stream,
      stop: () => {
        record.stoppedAt ??= epochMs();
        capture.stop();
      },
    };
  }

  private source(): Readable {
    const frames = this.current.frames;
    let timer: NodeJS.Timeout | undefined;
    const source = new Readable({
      read() {},
      destroy(error, callback) {
        if (timer) clearTimeout(timer);
        callback(error);
      },
    });
    const emit = () => {
      frames.push(epochMs());
      source.push(Buffer.alloc(FRAME_BYTES));
    };
    if ('burst' in this.mode) {
      const n = this.mode.burst;
      setImmediate(() => {
        for (let i = 0; i < n && !source.destroyed; i++) emit();
      });
      return source;
    }
    // Frame k is complete 10·(k+1) ms after the capture opened; the schedule does not drift.
    const start = performance.now();
    let k = 0;
    const tick = () => {
      if (source.destroyed) return;
      emit();
      k++;
      timer = setTimeout(tick, Math.max(0, start + (k + 1) * 10 - performance.now()));
    };
    timer = setTimeout(tick, 10);
    return source;
  }
}

// A microphone that plays back a recording — a WAV or raw PCM file, or a Buffer — delivered the way
// a live capture is (PROTOCOL.md §1.4: 320-byte frames, one per 10 ms): for tests, demos, and
// devices with no sound card.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { messageOf } from './message-of';
import { BYTES_PER_SECOND, type Capture, FRAME_BYTES, type Microphone, MicrophoneError } from './microphone';
import { looksLikeWav, parseWav } from './wav';

export interface FileMicrophoneOptions {
  /**
   * How to read the source. By default a `.wav` file, or bytes that start with a RIFF/WAVE
   * header, are WAV; anything else is raw s16le PCM.
   */
  readonly format?: 'wav' | 'raw';
  /**
   * `true` (the default): one frame per 10 ms, as a live microphone delivers them. `false`: as
   * fast as the stream is read, still in 320-byte frames.
   */
  readonly realtime?: boolean;
  /** Silence (zeros) after the recording: a user who has stopped talking. */
  readonly trailingSilenceMs?: number;
  /**
   * After the recording and its trailing silence: `'end'` the stream (the default), or keep
   * delivering `'silence'` until stop(), like a microphone left open.
   */
  readonly then?: 'end' | 'silence';
}

/** Plays a recording as a capture; every open() starts again from its beginning. */
export class FileMicrophone implements Microphone {
  private current: Capture | undefined;

  /** `source` is a file path or the file's bytes. */
  constructor(
    private readonly source: string | Buffer,
    private readonly options: FileMicrophoneOptions = {},
  ) {
    const ms = options.trailingSilenceMs ?? 0;
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`trailingSilenceMs must be a finite number >= 0, not ${ms}`);
  }

  /** Throws a BAD_SOURCE MicrophoneError naming what is wrong when the source is not 16 kHz 16-bit mono PCM. */
  open(): Capture {
    // One capture at a time, as on a real device: a new one takes over.
    this.current?.stop();
    const pcm = this.readPcm();
    const length = pcm.length + bytesForMs(this.options.trailingSilenceMs ?? 0);
    this.current = new PlaybackCapture(pcm, length, this.options.then === 'silence', this.options.realtime ?? true);
    return this.current;
  }

  private readPcm(): Buffer {
    const name = typeof this.source === 'string' ? this.source : 'the audio buffer';
    const bytes = typeof this.source === 'string' ? readSource(this.source) : this.source;
    const isWavFile = typeof this.source === 'string' && extname(this.source).toLowerCase() === '.wav';
    const format = this.options.format ?? (isWavFile || looksLikeWav(bytes) ? 'wav' : 'raw');
    if (format === 'wav') return parseWav(bytes, name);
    if (bytes.length % 2 !== 0) {
      throw new MicrophoneError('BAD_SOURCE', `${name}: ${bytes.length} bytes is not a whole number of 16-bit samples`);
    }
    return bytes;
  }
}

function readSource(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new MicrophoneError('BAD_SOURCE', `${path}: cannot be read (${messageOf(error)})`);
  }
}

/** Bytes of PCM in `ms` milliseconds, in whole samples. */
function bytesForMs(ms: number): number {
  return Math.round((ms * BYTES_PER_SECOND) / 1000 / 2) * 2;
}

/**
 * The stream of one playback: the recording, then zeros up to `length`, then (when `endless`)
 * zeros until stop(). Cut into 320-byte frames from the first byte, so only the last frame of a
 * stream that ends by itself can be shorter.
 */
class PlaybackCapture implements Capture {
  readonly stream: Readable;
  private delivered = 0;
  private done = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly startedAt = performance.now();

  constructor(
    private readonly pcm: Buffer,
    private readonly length: number,
    private readonly endless: boolean,
    realtime: boolean,
  ) {
    this.stream = new Readable({
      // Paced delivery runs on its own timers, whatever the reader does, as a live microphone would.
      read: () => {
        if (!realtime) this.deliverWhileWanted();
      },
      destroy: (error, callback) => {
        this.finish();
        callback(error);
      },
    });
    if (realtime) this.tick();
  }

  stop(): void {
    this.end();
  }

  private deliverWhileWanted(): void {
    // Endless silence read as fast as it can be would never give the event loop back (a flowing
    // stream calls read() again at once), so stop() could never run: from there on, one batch per turn.
    if (this.endless && this.delivered >= this.length) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.pushWhileWanted();
      });
    } else {
      this.pushWhileWanted();
    }
  }

  private pushWhileWanted(): void {
    // push() keeps saying "more" to a flowing reader, whose buffer it never fills: a batch is at
    // most one high-water mark, and the stream asks again.
    let room = this.stream.readableHighWaterMark;
    let wanted = true;
    while (wanted && room > 0 && !this.done) {
      const frame = this.nextFrame();
      if (frame === undefined) {
        this.end();
      } else {
        wanted = this.stream.push(frame);
        room -= frame.length;
      }
    }
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const now = performance.now();
    // A frame is due once its last sample would have been spoken, counted from the start of the
    // capture rather than from the previous timer: a late timer delivers every frame that fell due
    // meanwhile, so lateness never adds up over a long capture.
    let end = this.nextFrameEnd();
    while (end !== undefined && this.dueAt(end) <= now) {
      this.stream.push(this.takeFrame(end));
      end = this.nextFrameEnd();
    }
    if (end === undefined) this.end();
    else if (!this.done) this.timer = setTimeout(this.tick, Math.max(0, this.dueAt(end) - now));
  };

  private dueAt(byteOffset: number): number {
    return this.startedAt + (byteOffset * 1000) / BYTES_PER_SECOND;
  }

  /** Where the next frame ends, or undefined when nothing is left. */
  private nextFrameEnd(): number | undefined {
    if (this.done) return undefined;
    const end = this.endless ? this.delivered + FRAME_BYTES : Math.min(this.delivered + FRAME_BYTES, this.length);
    return end > this.delivered ? end : undefined;
  }

  private nextFrame(): Buffer | undefined {
    const end = this.nextFrameEnd();
    return end === undefined ? undefined : this.takeFrame(end);
  }

  private takeFrame(end: number): Buffer {
    // Zero-filled, so whatever the recording does not cover is silence.
    const frame = Buffer.alloc(end - this.delivered);
    if (this.delivered < this.pcm.length) this.pcm.copy(frame, 0, this.delivered, Math.min(end, this.pcm.length));
    this.delivered = end;
    return frame;
  }

  private end(): void {
    if (this.done) return;
    this.finish();
    this.stream.push(null);
  }

  private finish(): void {
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
  }
}

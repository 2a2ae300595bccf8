// The microphone (PROTOCOL.md §1.4, §5.3): 16 kHz, 16-bit signed little-endian, mono PCM — 32,000
// bytes a second — as a stream, from capture start until it is stopped or its source ends.
import type { Readable } from 'node:stream';

export const SAMPLE_RATE = 16_000;
export const BYTES_PER_SECOND = SAMPLE_RATE * 2;
/** §1.4: one HTTP/2 DATA frame per 10 ms of audio. */
export const FRAME_BYTES = 320;

export interface Capture {
  /** The PCM bytes as they are captured; ends after stop() or when the source ends; errors with a MicrophoneError. */
  readonly stream: Readable;
  /** Ends the capture: what was captured so far is still delivered, then the stream ends. */
  stop(): void;
}

export interface Microphone {
  /** Starts a capture (one at a time). Throws a MicrophoneError when it cannot start at all. */
  open(): Capture;
}

export type MicrophoneErrorCode =
  /** The recorder program (sox, rec, arecord) is not installed. */
  | 'PROGRAM_MISSING'
  /** The recorder started but failed (no such device, exit status, …). */
  | 'CAPTURE_FAILED'
  /** A file or stream source cannot be read as 16 kHz 16-bit mono PCM or WAV. */
  | 'BAD_SOURCE';

export class MicrophoneError extends Error {
  constructor(
    readonly code: MicrophoneErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MicrophoneError';
  }
}

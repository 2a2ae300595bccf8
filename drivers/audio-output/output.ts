// The audio output (PROTOCOL.md §6, §7.6, §8): plays a stream (speech as its attachment streams in,
// music as it downloads) or a URL, reports what happens, and can be stopped, paused and resumed.
// One volume and mute for everything it plays (§10, Speaker 1.0).
import type { Readable } from 'node:stream';
import type { VolumeControl } from './volume';

export type AudioFormat = 'mp3' | 'wav' | 'pcm16k';

export type AudioSource =
  /** Bytes as they arrive; playing starts with the first of them, never after the last. */
  | { readonly stream: Readable; readonly format: AudioFormat }
  /** An http(s) or file URL the player fetches itself. */
  | { readonly url: string };

export interface PlayOptions {
  /** Start this far into the audio (§8.3 offsetInMilliseconds). */
  readonly offsetMs?: number;
}

/**
 * One playback. Events: `started` (sound begins; at most once), `progress` (offset in ms, now and
 * then while playing), and exactly one of `finished` (played to the end), `stopped` (stop() was
 * called) or `failed` (a PlaybackError).
 */
export interface Playback {
  on(event: 'started' | 'finished' | 'stopped' | 'paused' | 'resumed', listener: () => void): this;
  on(event: 'progress', listener: (offsetMs: number) => void): this;
  on(event: 'failed', listener: (error: AudioOutputError) => void): this;
  /** Where playback is now, in ms of audio. */
  readonly offsetMs: number;
  stop(): void;
  pause(): void;
  resume(): void;
}

export interface AudioOutput extends VolumeControl {
  play(source: AudioSource, options?: PlayOptions): Playback;
}

export type AudioOutputErrorCode =
  /** No player program is installed (names the ones tried). */
  | 'PLAYER_MISSING'
  /** The player ran and failed (its exit status in the message). */
  | 'PLAYER_FAILED'
  /** The source stream failed or could not be fetched. */
  | 'SOURCE_FAILED';

export class AudioOutputError extends Error {
  constructor(
    readonly code: AudioOutputErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AudioOutputError';
  }
}

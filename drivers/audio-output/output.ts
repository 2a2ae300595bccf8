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
 * What a stream says about itself (§8.6 StreamMetadataExtracted): tag names to values. Text comes
 * as strings, flags as booleans; binary tags (pictures, private data) are never included.
 */
export type StreamMetadata = Record<string, string | boolean>;

/**
 * One playback. Events: `started` (sound begins; at most once), `progress` (offset in ms, now and
 * then while playing), and exactly one of `finished` (played to the end), `stopped` (stop() was
 * called) or `failed` (a PlaybackError).
 *
 * Stutter (§8.6 PlaybackStutterStarted / Finished): `underrun` when it is playing but has nothing
 * to play and the source has not ended, then `recovered` (with the ms it stalled, paused time not
 * counted) once audio comes again. They alternate, starting with `underrun`; never before
 * `started`, while paused or after the source ended. An underrun still open at the end is closed
 * by the final event, with no `recovered`.
 *
 * `metadata` at most once, as soon as the stream's tags have been read (an MP3's ID3v2 tag, which
 * comes before the audio: before `started` or right after it). Sources it cannot read (a URL the
 * player fetches itself) have none.
 *
 * `attenuation` echoes attenuate() when it changes the flag.
 */
export interface Playback {
  on(event: 'started' | 'finished' | 'stopped' | 'paused' | 'resumed' | 'underrun', listener: () => void): this;
  on(event: 'progress', listener: (offsetMs: number) => void): this;
  on(event: 'recovered', listener: (stallMs: number) => void): this;
  on(event: 'metadata', listener: (metadata: StreamMetadata) => void): this;
  on(event: 'attenuation', listener: (attenuated: boolean) => void): this;
  on(event: 'failed', listener: (error: AudioOutputError) => void): this;
  /** Where playback is now, in ms of audio. */
  readonly offsetMs: number;
  /** Whether it is ducked (the last attenuate() call). */
  readonly attenuated: boolean;
  stop(): void;
  pause(): void;
  resume(): void;
  /**
   * Ducks (true) or restores (false) the volume while it keeps playing, for content in the
   * background (§4.2, AudioPlayer 1.3 interruptedBehavior ATTENUATE). Ignored once it has ended.
   */
  attenuate(on: boolean): void;
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

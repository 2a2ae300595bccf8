// The part of an audio output the Speaker drives (PROTOCOL.md §10: one volume, 0..100, and a mute
// state for all AVS audio in Speaker 1.0). The full output — playing streams and URLs, reporting
// progress — grows from this with the spoken-dialog work.

export interface VolumeControl {
  /** Applies the volume (0..100) and mute state to everything the device plays. */
  setVolume(volume: number, muted: boolean): void;
}

/** An output with nowhere to play: it remembers what it was told, for a device with no speaker. */
export class NullVolumeControl implements VolumeControl {
  volume = 50;
  muted = false;
  setVolume(volume: number, muted: boolean): void {
    this.volume = volume;
    this.muted = muted;
  }
}

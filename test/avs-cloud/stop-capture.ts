// PROTOCOL.md §5.5: when the simulator ends a NEAR_FIELD / FAR_FIELD capture with StopCapture, as
// AVS's end-of-speech detection does — here: the audio stopped arriving for `idleMs`, or
// `maxBytes` of it arrived, whichever first. Fires once.
export class StopCaptureTracker {
  private bytes = 0;
  private done = false;
  private generation = 0;

  constructor(
    private readonly idleMs: number,
    private readonly maxBytes: number,
    /** A timer the simulator owns (cleared when it stops). */
    private readonly schedule: (ms: number, fn: () => void) => void,
    private readonly fire: () => void,
  ) {}

  /** Audio bytes arrived. */
  audio(bytes: number): void {
    if (this.done) return;
    this.bytes += bytes;
    if (this.bytes >= this.maxBytes) return this.trigger();
    const generation = ++this.generation;
    this.schedule(this.idleMs, () => {
      if (generation === this.generation) this.trigger();
    });
  }

  /** The capture ended otherwise (the device ended the body, or the request failed). */
  cancel(): void {
    this.done = true;
  }

  private trigger(): void {
    if (this.done) return;
    this.done = true;
    this.fire();
  }
}

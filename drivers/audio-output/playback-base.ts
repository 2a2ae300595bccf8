// What every Playback shares: typed events, `started` at most once, and exactly one of finished,
// stopped or failed — however many ways the end arrives at once (a kill racing an exit, a source
// error racing a stop). Also the rules of a stutter (underrun and recovered alternate, only while
// playing, the stall not counting paused time) and the attenuation flag, so each output only says
// when it runs dry and when audio comes again.
import { EventEmitter } from 'node:events';
import type { AudioOutputError, Playback, StreamMetadata } from './output';

export type PlaybackOutcome = 'finished' | 'stopped' | 'failed';

export type PlaybackResult =
  | { readonly outcome: 'finished' | 'stopped' }
  | { readonly outcome: 'failed'; readonly error: AudioOutputError };

export interface PlaybackEvents {
  started: [];
  progress: [offsetMs: number];
  paused: [];
  resumed: [];
  underrun: [];
  recovered: [stallMs: number];
  metadata: [metadata: StreamMetadata];
  attenuation: [attenuated: boolean];
  finished: [];
  stopped: [];
  failed: [error: AudioOutputError];
}

/** Ms without source bytes after which a playback that cannot see its player's buffer reports an underrun. */
export const DEFAULT_STALL_MS = 500;

export abstract class PlaybackBase extends EventEmitter<PlaybackEvents> implements Playback {
  /** Resolves with how the playback ended (never rejects), for callers that would rather await than listen. */
  readonly settled: Promise<PlaybackResult>;
  private resolveSettled!: (result: PlaybackResult) => void;
  private startedOnce = false;
  private result: PlaybackResult | undefined;
  private pausedAt: number | undefined;
  private ducked = false;
  private underrunSince: number | undefined;
  /** Paused time within the open underrun, which is not part of the stall. */
  private underrunPausedMs = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private metadataSent = false;

  /** `now` times the stalls (the default reads Date.now at each call, so fake timers apply). */
  constructor(private readonly now: () => number = () => Date.now()) {
    super();
    this.settled = new Promise((resolve) => (this.resolveSettled = resolve));
  }

  abstract readonly offsetMs: number;
  abstract stop(): void;
  abstract pause(): void;
  abstract resume(): void;

  get hasStarted(): boolean {
    return this.startedOnce;
  }

  /** How it ended; undefined while it has not. */
  get outcome(): PlaybackResult | undefined {
    return this.result;
  }

  get isSettled(): boolean {
    return this.result !== undefined;
  }

  get isPaused(): boolean {
    return this.pausedAt !== undefined;
  }

  /** Between an `underrun` and its `recovered`. */
  get isUnderrun(): boolean {
    return this.underrunSince !== undefined;
  }

  get attenuated(): boolean {
    return this.ducked;
  }

  /** Records the flag (and emits `attenuation` when it changes); an output that can duck does so in onAttenuate. */
  attenuate(on: boolean): void {
    if (this.result !== undefined || on === this.ducked) return;
    this.ducked = on;
    this.onAttenuate(on);
    this.emit('attenuation', on);
  }

  /** Emits `started` unless it has been emitted or the playback has ended; true when it did. */
  protected markStarted(): boolean {
    if (this.startedOnce || this.result !== undefined) return false;
    this.startedOnce = true;
    this.emit('started');
    return true;
  }

  /** Emits `paused` unless paused or ended; true when it did. */
  protected markPaused(): boolean {
    if (this.result !== undefined || this.pausedAt !== undefined) return false;
    this.pausedAt = this.now();
    this.emit('paused');
    return true;
  }

  /** Emits `resumed` unless not paused or ended; true when it did. */
  protected markResumed(): boolean {
    if (this.result !== undefined || this.pausedAt === undefined) return false;
    if (this.underrunSince !== undefined) this.underrunPausedMs += this.now() - this.pausedAt;
    this.pausedAt = undefined;
    this.emit('resumed');
    return true;
  }

  /**
   * Emits `underrun` when it may: started, not ended, not paused and none open. The caller knows
   * the source has not ended. True when it did.
   */
  protected markUnderrun(): boolean {
    if (!this.startedOnce || this.result !== undefined || this.pausedAt !== undefined || this.underrunSince !== undefined) return false;
    this.clearStallTimer();
    this.underrunSince = this.now();
    this.underrunPausedMs = 0;
    this.emit('underrun');
    return true;
  }

  /** Emits `recovered` with the stall when an underrun is open and it is not paused; true when it did. */
  protected markRecovered(): boolean {
    if (this.underrunSince === undefined || this.result !== undefined || this.pausedAt !== undefined) return false;
    const stallMs = Math.max(0, this.now() - this.underrunSince - this.underrunPausedMs);
    this.underrunSince = undefined;
    this.emit('recovered', stallMs);
    return true;
  }

  /**
   * (Re)starts the wait for source bytes: markUnderrun() after `stallMs` of none. For outputs that
   * cannot tell when the audio runs out, so a silent source stands in for an empty buffer.
   */
  protected armStallTimer(stallMs: number): void {
    this.clearStallTimer();
    if (!this.startedOnce || this.result !== undefined || this.pausedAt !== undefined || this.underrunSince !== undefined) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      this.markUnderrun();
    }, stallMs);
    // Waiting for a source never keeps the process alive by itself.
    this.stallTimer.unref();
  }

  protected clearStallTimer(): void {
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** Emits `metadata` once per playback, unless empty or ended; true when it did. */
  protected markMetadata(metadata: StreamMetadata): boolean {
    if (this.metadataSent || this.result !== undefined || Object.keys(metadata).length === 0) return false;
    this.metadataSent = true;
    this.emit('metadata', metadata);
    return true;
  }

  /** Ends the playback unless it has ended already; true when this call ended it. */
  protected settle(result: PlaybackResult): boolean {
    if (this.result !== undefined) return false;
    this.result = result;
    this.clearStallTimer();
    this.onSettled(result);
    if (result.outcome === 'failed') this.emit('failed', result.error);
    else this.emit(result.outcome);
    this.resolveSettled(result);
    return true;
  }

  protected fail(error: AudioOutputError): boolean {
    return this.settle({ outcome: 'failed', error });
  }

  /** Runs before the final event is emitted (records the end, releases resources). */
  protected onSettled(_result: PlaybackResult): void {}

  /** Runs when the attenuation flag changes, before `attenuation` is emitted. */
  protected onAttenuate(_on: boolean): void {}
}

/** Runs `fn` after the current call returns, so a listener attached right after play() sees it; fake timers do not hold it back. */
export const afterReturn = (fn: () => void): void => {
  void Promise.resolve().then(fn);
};

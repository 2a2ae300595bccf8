// What every Playback shares: typed events, `started` at most once, and exactly one of finished,
// stopped or failed — however many ways the end arrives at once (a kill racing an exit, a source
// error racing a stop).
import { EventEmitter } from 'node:events';
import type { AudioOutputError, Playback } from './output';

export type PlaybackOutcome = 'finished' | 'stopped' | 'failed';

export type PlaybackResult =
  | { readonly outcome: 'finished' | 'stopped' }
  | { readonly outcome: 'failed'; readonly error: AudioOutputError };

export interface PlaybackEvents {
  started: [];
  progress: [offsetMs: number];
  paused: [];
  resumed: [];
  finished: [];
  stopped: [];
  failed: [error: AudioOutputError];
}

export abstract class PlaybackBase extends EventEmitter<PlaybackEvents> implements Playback {
  /** Resolves with how the playback ended (never rejects), for callers that would rather await than listen. */
  readonly settled: Promise<PlaybackResult>;
  private resolveSettled!: (result: PlaybackResult) => void;
  private startedOnce = false;
  private result: PlaybackResult | undefined;

  constructor() {
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

  /** Emits `started` unless it has been emitted or the playback has ended; true when it did. */
  protected markStarted(): boolean {
    if (this.startedOnce || this.result !== undefined) return false;
    this.startedOnce = true;
    this.emit('started');
    return true;
  }

  /** Ends the playback unless it has ended already; true when this call ended it. */
  protected settle(result: PlaybackResult): boolean {
    if (this.result !== undefined) return false;
    this.result = result;
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
}

/** Runs `fn` after the current call returns, so a listener attached right after play() sees it; fake timers do not hold it back. */
export const afterReturn = (fn: () => void): void => {
  void Promise.resolve().then(fn);
};

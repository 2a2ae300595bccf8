// The real device's clock. Waits go in short hops, each recomputed from the wall clock, so neither
// a wait over 24.8 days (which Node would fire at once) nor a wall clock that drifts or is set
// while we wait makes an alert go off at the wrong time. A watchdog compares wall-clock progress
// with monotonic progress to notice a jump as it happens instead of up to a hop late.
import { performance } from 'node:perf_hooks';
import type { Clock } from './clock';

/** Node fires a setTimeout longer than this at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The default `notBefore`: a wall clock before this has not been set (a board booted in 1970). */
export const DEFAULT_NOT_BEFORE = Date.UTC(2026, 0, 1);

export interface SystemClockOptions {
  /** Longest single timer a wait uses before it looks at the wall clock again (default 60 s). */
  readonly maxHopMs?: number;
  /** How often the watchdog compares the wall clock with the monotonic one (default 1 s). */
  readonly watchdogMs?: number;
  /** A wall-clock change beyond the monotonic one larger than this is a jump (default 2 s). */
  readonly jumpThresholdMs?: number;
  /** Whether the wall clock can be believed; by default, when it reads `notBefore` or later. */
  readonly isTrusted?: () => boolean;
  /** Wall-clock times before this are not trusted (default 2026-01-01T00:00:00Z). */
  readonly notBefore?: number;
  /**
   * Whether pending waits let the process exit (default false: a device with an alert set must
   * keep running until it goes off). The watchdog never holds the process.
   */
  readonly unref?: boolean;
  /** Wall-clock time, ms since the epoch (default `Date.now`). */
  readonly wallNow?: () => number;
  /** Monotonic time, ms from an arbitrary origin (default `performance.now`). */
  readonly monoNow?: () => number;
}

interface Wait {
  readonly time: number;
  readonly fn: () => void;
  timer: NodeJS.Timeout | undefined;
}

export class SystemClock implements Clock {
  private readonly maxHopMs: number;
  private readonly watchdogMs: number;
  private readonly jumpThresholdMs: number;
  private readonly isTrusted: () => boolean;
  private readonly unref: boolean;
  private readonly wallNow: () => number;
  private readonly monoNow: () => number;
  private readonly waits = new Set<Wait>();
  private readonly listeners = new Set<(deltaMs: number) => void>();
  private watchdog: NodeJS.Timeout | undefined;
  private lastWall = 0;
  private lastMono = 0;
  private stopped = false;

  constructor(options: SystemClockOptions = {}) {
    this.maxHopMs = positiveMs('maxHopMs', options.maxHopMs ?? 60_000);
    this.watchdogMs = positiveMs('watchdogMs', options.watchdogMs ?? 1000);
    this.jumpThresholdMs = options.jumpThresholdMs ?? 2000;
    this.unref = options.unref ?? false;
    this.wallNow = options.wallNow ?? (() => Date.now());
    this.monoNow = options.monoNow ?? (() => performance.now());
    const notBefore = options.notBefore ?? DEFAULT_NOT_BEFORE;
    this.isTrusted = options.isTrusted ?? (() => this.wallNow() >= notBefore);
  }

  now(): number {
    return this.wallNow();
  }

  get trusted(): boolean {
    return this.isTrusted();
  }

  /** Number of waits not yet fired nor cancelled. */
  get pending(): number {
    return this.waits.size;
  }

  /**
   * A time already reached fires on the next turn of the event loop, never inside `at`: the
   * caller has its cancel function before `fn` can run. A stopped clock schedules nothing.
   */
  at(time: number, fn: () => void): () => void {
    if (!Number.isFinite(time)) throw new RangeError(`SystemClock.at: time must be a finite number, got ${time}`);
    if (this.stopped) return () => {};
    const wait: Wait = { time, fn, timer: undefined };
    this.waits.add(wait);
    this.startWatchdog();
    wait.timer = this.timer(() => this.plan(wait), 0);
    return () => {
      if (!this.waits.delete(wait)) return;
      clearTimeout(wait.timer);
      this.stopWatchdogIfIdle();
    };
  }

  onJump(listener: (deltaMs: number) => void): () => void {
    if (this.stopped) return () => {};
    // A wrapper, so the same function subscribed twice is two subscriptions.
    const entry = (deltaMs: number): void => listener(deltaMs);
    this.listeners.add(entry);
    this.startWatchdog();
    return () => {
      this.listeners.delete(entry);
      this.stopWatchdogIfIdle();
    };
  }

  /** Clears every timer and the watchdog; pending waits never fire, and later ones are not armed. */
  stop(): void {
    this.stopped = true;
    for (const wait of this.waits) clearTimeout(wait.timer);
    this.waits.clear();
    this.listeners.clear();
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  /** Fires the wait if its time has come, else sets its next hop (or, untrusted, its next look). */
  private plan(wait: Wait): void {
    clearTimeout(wait.timer);
    wait.timer = undefined;
    if (!this.waits.has(wait)) return;
    if (!this.isTrusted()) {
      wait.timer = this.timer(() => this.plan(wait), this.watchdogMs);
      return;
    }
    const remaining = wait.time - this.wallNow();
    if (remaining <= 0) {
      this.waits.delete(wait);
      this.stopWatchdogIfIdle();
      wait.fn();
      return;
    }
    wait.timer = this.timer(() => this.plan(wait), Math.min(remaining, this.maxHopMs));
  }

  private timer(fn: () => void, ms: number): NodeJS.Timeout {
    const handle = setTimeout(fn, ms);
    if (this.unref) handle.unref();
    return handle;
  }

  private startWatchdog(): void {
    if (this.watchdog !== undefined) return;
    this.lastWall = this.wallNow();
    this.lastMono = this.monoNow();
    this.watchdog = setInterval(() => this.check(), this.watchdogMs);
    this.watchdog.unref();
  }

  private stopWatchdogIfIdle(): void {
    if (this.waits.size > 0 || this.listeners.size > 0) return;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private check(): void {
    const wall = this.wallNow();
    const mono = this.monoNow();
    const deltaMs = wall - this.lastWall - (mono - this.lastMono);
    this.lastWall = wall;
    this.lastMono = mono;
    if (Math.abs(deltaMs) <= this.jumpThresholdMs) return;
    // Listeners hear of the jump before the waits it makes due fire, so the cause comes first.
    // Every listener and every wait runs even if one throws; the first error is rethrown after.
    const errors: unknown[] = [];
    for (const listener of [...this.listeners]) attempt(() => listener(deltaMs), errors);
    for (const wait of [...this.waits]) attempt(() => this.plan(wait), errors);
    if (errors.length > 0) throw errors[0];
  }
}

function attempt(fn: () => void, errors: unknown[]): void {
  try {
    fn();
  } catch (error) {
    errors.push(error);
  }
}

function positiveMs(name: string, ms: number): number {
  if (!(ms >= 1 && ms <= MAX_TIMEOUT_MS)) throw new RangeError(`SystemClock: ${name} must be between 1 and ${MAX_TIMEOUT_MS} ms, got ${ms}`);
  return ms;
}

// A clock for tests, moved by hand. It is also an XState clock (`createActor(machine, { clock })`),
// so a machine's `after` delays and the alerts' `at` waits share one time line. Two times move
// together on `advance`: the wall clock, which `at` follows, and the monotonic one, which the
// XState timers follow; `jump` moves only the wall clock, as NTP or a user setting the time does.
import type { Clock } from './clock';

interface Entry {
  /** Scheduling order: of two things due at the same instant, the one scheduled first fires first. */
  readonly seq: number;
  /** `wall`: an `at` wait, due at wall-clock `due`; `mono`: a setTimeout, due at monotonic `due`. */
  readonly kind: 'wall' | 'mono';
  readonly due: number;
  readonly fn: () => void;
}

export class SimulatedClock implements Clock {
  private wall: number;
  private mono = 0;
  private seq = 0;
  private isTrusted = true;
  private readonly entries = new Map<number, Entry>();
  private readonly listeners = new Set<(deltaMs: number) => void>();

  constructor(startMs: number = Date.UTC(2026, 0, 1)) {
    this.wall = finite('startMs', startMs);
  }

  now(): number {
    return this.wall;
  }

  /** Monotonic time since the clock was made: what `advance` moved, not what `jump` did. */
  get monotonic(): number {
    return this.mono;
  }

  get trusted(): boolean {
    return this.isTrusted;
  }

  /** `at` waits and setTimeouts not yet fired nor cancelled. */
  get pending(): number {
    return this.entries.size;
  }

  /**
   * Like the real clock, a time already reached does not fire inside `at`: it fires on the next
   * `advance` (`advance(0)` will do), `jump` or `setTrusted(true)`.
   */
  at(time: number, fn: () => void): () => void {
    return this.cancelOf(this.add('wall', finite('time', time), fn));
  }

  onJump(listener: (deltaMs: number) => void): () => void {
    const entry = (deltaMs: number): void => listener(deltaMs);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** XState's clock: fires `fn` after `ms` of monotonic time, whatever the wall clock does. */
  setTimeout(fn: () => void, ms: number): number {
    return this.add('mono', this.mono + (ms > 0 ? ms : 0), fn);
  }

  /** Clears a setTimeout; an `at` wait goes only by its own cancel function. */
  clearTimeout(id: number): void {
    if (this.entries.get(id)?.kind === 'mono') this.entries.delete(id);
  }

  /**
   * Moves both times forward by `ms`, firing, in time order, everything due by then — including
   * what the callbacks schedule, if it falls inside the window. Each fires with the clock at its time.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`SimulatedClock.advance: ms must be 0 or more, got ${ms}`);
    const end = this.mono + ms;
    for (;;) {
      const next = this.next();
      if (next === undefined || next.wait > end - this.mono) break;
      this.move(Math.max(0, next.wait));
      this.fire(next.entry);
    }
    this.move(end - this.mono);
  }

  /** Advances until the wall clock reads `time`. */
  advanceTo(time: number): void {
    if (!(time >= this.wall)) throw new RangeError(`SimulatedClock.advanceTo: ${time} is before now (${this.wall}); use jump to go back`);
    this.advance(time - this.wall);
  }

  /**
   * The wall clock jumps by `deltaMs` (negative: back); monotonic time and the setTimeouts do not
   * move. Listeners hear first, then the `at` waits it made due fire.
   */
  jump(deltaMs: number): void {
    this.wall += finite('deltaMs', deltaMs);
    for (const listener of [...this.listeners]) listener(deltaMs);
    this.fireDueWaits();
  }

  /** While untrusted, `at` waits hold, however due; made trusted, the due ones fire at once. */
  setTrusted(trusted: boolean): void {
    this.isTrusted = trusted;
    if (trusted) this.fireDueWaits();
  }

  private add(kind: Entry['kind'], due: number, fn: () => void): number {
    const seq = ++this.seq;
    this.entries.set(seq, { seq, kind, due, fn });
    return seq;
  }

  private cancelOf(id: number): () => void {
    return () => {
      this.entries.delete(id);
    };
  }

  /** The entry to fire first (the earliest due, then the first scheduled), and how long from now it is due. */
  private next(kinds: readonly Entry['kind'][] = ['wall', 'mono']): { entry: Entry; wait: number } | undefined {
    let best: { entry: Entry; wait: number } | undefined;
    for (const entry of this.entries.values()) {
      if (!kinds.includes(entry.kind) || (entry.kind === 'wall' && !this.isTrusted)) continue;
      const wait = entry.due - (entry.kind === 'wall' ? this.wall : this.mono);
      if (best === undefined || wait < best.wait || (wait === best.wait && entry.seq < best.entry.seq)) best = { entry, wait };
    }
    return best;
  }

  private move(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }

  private fire(entry: Entry): void {
    this.entries.delete(entry.seq);
    entry.fn();
  }

  /** Only the `at` waits: the setTimeouts follow monotonic time, which a jump or trust does not move. */
  private fireDueWaits(): void {
    for (;;) {
      const next = this.next(['wall']);
      if (next === undefined || next.wait > 0) return;
      this.fire(next.entry);
    }
  }
}

function finite(name: string, value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`SimulatedClock: ${name} must be a finite number, got ${value}`);
  return value;
}

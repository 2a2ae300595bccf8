// SystemClock on jest's fake timers, with the wall and monotonic clocks injected: both follow
// jest.now(), and the wall clock can be set apart from it to play NTP or a user changing the time.
import { DEFAULT_NOT_BEFORE, SystemClock, type SystemClockOptions } from '../../../drivers/clock';

const START = Date.UTC(2026, 5, 1, 12);
const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A SystemClock whose wall clock reads `START` now and can be jumped. */
function setup(options: SystemClockOptions = {}) {
  let offset = START - jest.now();
  const clock = new SystemClock({ wallNow: () => jest.now() + offset, monoNow: () => jest.now(), ...options });
  const fired: number[] = [];
  /** Schedules a wait that records the wall-clock time it fired at. */
  const at = (time: number): (() => void) => clock.at(time, () => fired.push(clock.now()));
  const jump = (deltaMs: number): void => {
    offset += deltaMs;
  };
  return { clock, fired, at, jump };
}

/** Every setTimeout delay the clock asked for from here on. */
function timeoutDelays(): number[] {
  const delays: number[] = [];
  const real = global.setTimeout;
  jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    return real(fn, ms);
  }) as typeof setTimeout);
  return delays;
}

beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.restoreAllMocks();
  jest.useRealTimers();
});

describe('SystemClock.at', () => {
  it.each([
    ['1 s', SECOND],
    ['1 h', HOUR],
    ['40 days', 40 * DAY],
  ])('fires exactly at the time, not before, %s away', (_, away) => {
    const { clock, fired, at } = setup();
    const delays = timeoutDelays();
    at(START + away);
    jest.advanceTimersByTime(away - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([START + away]);
    expect(delays.filter((ms) => ms > 60_000)).toEqual([]);
    expect(clock.pending).toBe(0);
    clock.stop();
  });

  it('waits in hops no longer than maxHopMs', () => {
    const { clock, fired, at } = setup({ maxHopMs: 10_000 });
    const delays = timeoutDelays();
    at(START + 35_000);
    jest.advanceTimersByTime(35_000);
    expect(fired).toEqual([START + 35_000]);
    // The first turn, three full hops, then the rest.
    expect(delays).toEqual([0, 10_000, 10_000, 10_000, 5_000]);
    clock.stop();
  });

  it('fires a time already past on the next turn, never inside at', () => {
    const { clock, fired, at } = setup();
    at(START - HOUR);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(0);
    expect(fired).toEqual([START]);
    clock.stop();
  });

  it('fires waits in the order of their times', () => {
    const { clock } = setup();
    const order: string[] = [];
    clock.at(START + 3 * HOUR, () => order.push('c'));
    clock.at(START + HOUR, () => order.push('a'));
    clock.at(START + 2 * HOUR, () => order.push('b'));
    jest.advanceTimersByTime(3 * HOUR);
    expect(order).toEqual(['a', 'b', 'c']);
    clock.stop();
  });

  it('does not fire a cancelled wait, and leaves no timer behind it', () => {
    const { clock, fired, at } = setup();
    const cancel = at(START + HOUR);
    jest.advanceTimersByTime(HOUR / 2);
    cancel();
    cancel();
    expect(clock.pending).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(HOUR);
    expect(fired).toEqual([]);
  });

  it('follows a wall clock that drifts under the jump threshold, never firing early', () => {
    const { clock, fired, at, jump } = setup();
    at(START + 10 * SECOND);
    jest.advanceTimersByTime(5 * SECOND);
    jump(-1500);
    jest.advanceTimersByTime(5 * SECOND);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1499);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([START + 10 * SECOND]);
    clock.stop();
  });
});

describe('SystemClock jumps', () => {
  it('fires at once when the wall clock jumps forward past the time', () => {
    const { clock, fired, at, jump } = setup();
    at(START + HOUR);
    jest.advanceTimersByTime(10 * SECOND);
    jump(2 * HOUR);
    // The watchdog sees it on its next look, not at the end of the 60 s hop.
    jest.advanceTimersByTime(SECOND);
    expect(fired).toEqual([START + 2 * HOUR + 11 * SECOND]);
    expect(clock.pending).toBe(0);
    clock.stop();
  });

  it('delays the wait by a jump backwards', () => {
    const { clock, fired, at, jump } = setup();
    at(START + HOUR);
    jest.advanceTimersByTime(10 * SECOND);
    jump(-30 * 60_000);
    jest.advanceTimersByTime(HOUR - 10 * SECOND - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(30 * 60_000);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([START + HOUR]);
    clock.stop();
  });

  it('re-plans a long wait after a jump forward that leaves it in the future', () => {
    const { clock, fired, at, jump } = setup();
    at(START + 40 * DAY);
    jest.advanceTimersByTime(DAY);
    jump(30 * DAY);
    jest.advanceTimersByTime(9 * DAY - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([START + 40 * DAY]);
    clock.stop();
  });

  it('tells onJump listeners the delta, and not a change under the threshold', () => {
    const { clock, jump } = setup();
    const deltas: number[] = [];
    const unsubscribe = clock.onJump((d) => deltas.push(d));
    jest.advanceTimersByTime(5 * SECOND);
    jump(HOUR);
    jest.advanceTimersByTime(SECOND);
    jump(-5 * SECOND);
    jest.advanceTimersByTime(SECOND);
    jump(1500);
    jest.advanceTimersByTime(5 * SECOND);
    expect(deltas).toEqual([HOUR, -5 * SECOND]);
    unsubscribe();
    expect(jest.getTimerCount()).toBe(0);
    jump(HOUR);
    jest.advanceTimersByTime(5 * SECOND);
    expect(deltas).toEqual([HOUR, -5 * SECOND]);
  });

  it('tells listeners of a jump before the waits it made due fire', () => {
    const { clock, jump } = setup();
    const seen: string[] = [];
    clock.onJump((d) => seen.push(`jump ${d}`));
    clock.at(START + HOUR, () => seen.push('fired'));
    jest.advanceTimersByTime(SECOND);
    jump(HOUR);
    jest.advanceTimersByTime(SECOND);
    expect(seen).toEqual([`jump ${HOUR}`, 'fired']);
    clock.stop();
  });

  it('fires every wait a jump made due even if one of them throws', () => {
    const { clock, jump } = setup();
    const seen: string[] = [];
    clock.at(START + HOUR, () => {
      throw new Error('alert failed');
    });
    clock.at(START + HOUR, () => seen.push('second'));
    jest.advanceTimersByTime(SECOND);
    jump(HOUR);
    expect(() => jest.advanceTimersByTime(SECOND)).toThrow('alert failed');
    expect(seen).toEqual(['second']);
    expect(clock.pending).toBe(0);
    clock.stop();
  });
});

describe('SystemClock trust', () => {
  it('does not trust a wall clock before notBefore (a board booted in 1970)', () => {
    let wall = 0;
    const clock = new SystemClock({ wallNow: () => wall, monoNow: () => jest.now() });
    expect(clock.trusted).toBe(false);
    wall = DEFAULT_NOT_BEFORE;
    expect(clock.trusted).toBe(true);
  });

  it('holds a wait while untrusted and arms it as soon as the clock is trusted', () => {
    let trusted = false;
    const { clock, fired, at } = setup({ isTrusted: () => trusted });
    at(START + 10 * SECOND);
    jest.advanceTimersByTime(HOUR);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(1);
    trusted = true;
    jest.advanceTimersByTime(SECOND);
    expect(fired).toEqual([START + HOUR + SECOND]);
    clock.stop();
  });

  it('arms a held wait for its own time once trusted, not at once', () => {
    let trusted = false;
    const { clock, fired, at } = setup({ isTrusted: () => trusted });
    at(START + HOUR);
    jest.advanceTimersByTime(10 * SECOND);
    trusted = true;
    jest.advanceTimersByTime(HOUR - 10 * SECOND - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([START + HOUR]);
    clock.stop();
  });

  it('arms a wait held in 1970 when NTP sets the clock', () => {
    let offset = -jest.now();
    const clock = new SystemClock({ wallNow: () => jest.now() + offset, monoNow: () => jest.now() });
    const fired: number[] = [];
    clock.at(START + HOUR, () => fired.push(clock.now()));
    jest.advanceTimersByTime(DAY);
    expect(fired).toEqual([]);
    offset = START - jest.now();
    jest.advanceTimersByTime(HOUR - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([START + HOUR]);
    clock.stop();
  });
});

describe('SystemClock timers', () => {
  it('leaves no timer after stop, and a stopped clock arms nothing', () => {
    const { clock, fired, at } = setup();
    at(START + HOUR);
    at(START + 40 * DAY);
    clock.onJump(() => {});
    expect(jest.getTimerCount()).toBeGreaterThan(0);
    clock.stop();
    expect(jest.getTimerCount()).toBe(0);
    at(START + SECOND);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(41 * DAY);
    expect(fired).toEqual([]);
  });

  it('stops its watchdog when nothing waits', () => {
    const { clock, at } = setup();
    at(START + SECOND);
    jest.advanceTimersByTime(SECOND);
    expect(jest.getTimerCount()).toBe(0);
    clock.stop();
  });

  it.each([
    [undefined, true],
    [false, true],
    [true, false],
  ])('with unref %s, a pending wait holds the process: %s', (unref, holds) => {
    const created: NodeJS.Timeout[] = [];
    const real = global.setTimeout;
    jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const handle = real(fn, ms);
      created.push(handle);
      return handle;
    }) as typeof setTimeout);
    const intervals: NodeJS.Timeout[] = [];
    const realInterval = global.setInterval;
    jest.spyOn(global, 'setInterval').mockImplementation(((fn: () => void, ms?: number) => {
      const handle = realInterval(fn, ms);
      intervals.push(handle);
      return handle;
    }) as typeof setInterval);
    const { clock, at } = setup(unref === undefined ? {} : { unref });
    at(START + HOUR);
    jest.advanceTimersByTime(2 * 60_000);
    expect(created.length).toBeGreaterThan(1);
    expect(created.every((t) => t.hasRef() === holds)).toBe(true);
    expect(intervals.map((t) => t.hasRef())).toEqual([false]);
    clock.stop();
  });
});

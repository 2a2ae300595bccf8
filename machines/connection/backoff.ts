// PROTOCOL.md §1.8: the reconnect schedule, as pure functions of the connection machine's context.

/** §1.8, SDK v1.21 column: base delay of attempt n (1-based), the last repeating. */
export const BACKOFF_TABLE_MS: readonly number[] = [250, 1000, 2000, 4000, 8000, 16000, 32000, 64000];

/** The bound: never more than this many connection attempts in any such window. */
export const MAX_ATTEMPTS_IN_WINDOW = 50;
export const ATTEMPT_WINDOW_MS = 10 * 60 * 1000;

/**
 * mulberry32: a small, fast PRNG whose whole state is one uint32, so it lives in the machine's
 * context (inspectable, persistable, deterministic under test). The device seeds it once from a
 * real random source; it is never re-seeded from the clock.
 */
export function nextRandom(state: number): { value: number; state: number } {
  const s = (state + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  const value = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  return { value, state: s };
}

export interface BackoffInput {
  /** Consecutive failed attempts so far (0 after a successful connection). */
  readonly failures: number;
  /** Start times of recent connection attempts, oldest first. */
  readonly attempts: readonly number[];
  /** Time the delay is computed at (the failure). */
  readonly now: number;
  readonly rng: number;
  /** Upper bound of any one base delay. */
  readonly capMs: number;
}

/**
 * The delay before the next attempt: "full jitter" — uniform in [0, base] where base is the §1.8
 * table value for this attempt, capped — and never so short that the next attempt would be the
 * 51st in ten minutes.
 */
export function retryDelay(input: BackoffInput): { delayMs: number; rng: number } {
  const base = Math.min(input.capMs, BACKOFF_TABLE_MS[Math.min(input.failures, BACKOFF_TABLE_MS.length) - 1] ?? BACKOFF_TABLE_MS[0]);
  const { value, state } = nextRandom(input.rng);
  let delayMs = Math.floor(value * base);
  const recent = input.attempts.filter((t) => t >= input.now - ATTEMPT_WINDOW_MS);
  if (recent.length >= MAX_ATTEMPTS_IN_WINDOW) {
    // The next attempt may start only once the oldest of the last 49 has left the window.
    const oldest = recent[recent.length - MAX_ATTEMPTS_IN_WINDOW];
    delayMs = Math.max(delayMs, oldest + ATTEMPT_WINDOW_MS - input.now + 1);
  }
  return { delayMs, rng: state };
}

/** The attempt log, trimmed to what the window needs. */
export const logAttempt = (attempts: readonly number[], at: number): number[] =>
  [...attempts, at].filter((t) => t >= at - ATTEMPT_WINDOW_MS).slice(-MAX_ATTEMPTS_IN_WINDOW);

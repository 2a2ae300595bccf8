// The device's clock (PROTOCOL.md §7: alerts go off at their time, online or not, on the local
// clock). Wall-clock time for scheduling, with the three things a plain setTimeout gets wrong:
// a wait longer than 24.8 days (Node fires it at once), a wall clock that jumps (NTP, DST, the
// user setting the time — the wait must follow the wall clock, not the elapsed time), and a clock
// that is not set yet (a board without a battery-backed clock boots in 1970).

export interface Clock {
  /** Wall-clock time, ms since the epoch. */
  now(): number;
  /**
   * Calls `fn` once when the wall clock reaches `time` (at once if it already has), however far
   * away and whatever the wall clock does meanwhile; waits while the clock is not trusted.
   * Returns a cancel function.
   */
  at(time: number, fn: () => void): () => void;
  /** Called after the wall clock jumped by `deltaMs` (positive: forward). Returns an unsubscribe. */
  onJump(listener: (deltaMs: number) => void): () => void;
  /** Whether the wall clock can be believed (set by NTP, an RTC, or the platform's word). */
  readonly trusted: boolean;
}

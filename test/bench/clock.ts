// One time line for the bench's processes: milliseconds since the epoch with microsecond
// resolution, from each process's monotonic clock (performance.now) anchored at its start
// (performance.timeOrigin). Two processes on one machine agree to within the error of those
// anchors; `calibrate` measures what is left, so cross-process intervals (a frame leaving the
// device's microphone driver, its bytes arriving at the simulator) can be corrected.
import { performance } from 'node:perf_hooks';

/** Now, in ms since the epoch (fractional). */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export interface ClockOffset {
  /** Add to this process's epochMs() to get the other process's. */
  readonly offsetMs: number;
  /** The round trip of the best sample: the offset is known to ± half of it. */
  readonly rttMs: number;
}

/**
 * NTP-style: asks the other process for its time `rounds` times and keeps the exchanges with the
 * shortest round trips (least queueing), whose midpoints bound the offset best.
 */
export async function calibrate(remoteNow: () => Promise<number>, rounds = 40): Promise<ClockOffset> {
  const samples: { offset: number; rtt: number }[] = [];
  for (let i = 0; i < rounds; i++) {
    const t1 = epochMs();
    const remote = await remoteNow();
    const t3 = epochMs();
    samples.push({ offset: remote - (t1 + t3) / 2, rtt: t3 - t1 });
  }
  samples.sort((a, b) => a.rtt - b.rtt);
  const best = samples.slice(0, Math.max(1, Math.floor(rounds / 8)));
  const offsets = best.map((s) => s.offset).sort((a, b) => a - b);
  return { offsetMs: offsets[Math.floor(offsets.length / 2)], rttMs: best[0].rtt };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `ready()` holds (checked every `everyMs`); rejects after `timeoutMs`. */
export async function until(ready: () => boolean, timeoutMs: number, what: string, everyMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// Figure group 1, the device's side (runs in its own process): the directive pipeline from the
// last byte of a Speaker.SetVolume on the downchannel to the output driver's volume being set.
//
// "Last byte on the downchannel" is when the simulator (in the harness process) had written the
// directive and its delimiter line; the driver call is dated here; the two clocks are put on one
// time line by `calibrate`. So the figure includes everything a directive waits for on its way
// — the loopback, TLS, HTTP/2, a device event loop busy with the one before — not only the time
// the runtime spends on it once its chunk reaches JavaScript (reported too, as `in_js`).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SenderReport } from '../../services/transport';
import { startBenchDevice, type DeviceTarget } from './bench-device';
import { volumeOf } from './bench-sim';
import { calibrate, sleep, type ClockOffset } from './clock';
import type { Rpc } from './ipc';
import { distribution, type Distribution } from './stats';
import { TimedOutput } from './timed-drivers';
import { WireTap } from './wire-tap';

export interface DirectivesTask {
  readonly target: DeviceTarget;
  readonly warmup: { readonly count: number; readonly rate: number };
  readonly steady: { readonly count: number; readonly rate: number };
  readonly search: {
    /** Offered rates, in increasing order; the search stops at the first that fails. */
    readonly rates: readonly number[];
    readonly seconds: number;
    readonly minCount: number;
    /** "Sustained": p99 under this (issue 11: 5 ms), every directive carried out. */
    readonly maxP99Ms: number;
  };
}

export interface StepResult {
  readonly rate: number;
  readonly count: number;
  /** Directives per second the simulator actually wrote (its timers are ~1 ms). */
  readonly offeredRate: number;
  readonly handled: number;
  /** Driver calls whose volume was not the one expected in that place (must be 0). */
  readonly mismatches: number;
  /** Last byte written by the simulator → output volume set (ms). */
  readonly wire: Distribution;
  /** The directive's last chunk reaching JavaScript in the device → output volume set (ms). */
  readonly inJs: Distribution;
  /** The device process's CPU time over the step's wall time (one core = 100). */
  readonly cpuPercent: number;
  /** Of which in the kernel (socket writes, fsync). */
  readonly systemCpuPercent: number;
  /** Event-loop utilization over the step (0..1). */
  readonly loopUtilization: number;
  readonly logBytesPerDirective: number;
  readonly reports: Readonly<Record<string, number>>;
  readonly passed: boolean;
}

export interface DirectivesResult {
  readonly clock: ClockOffset;
  readonly steady: StepResult;
  readonly steps: readonly StepResult[];
  /** The highest offered rate that passed. */
  readonly maxRate: number;
  /** Why the search stopped. */
  readonly stoppedBy: string;
}

export async function runDirectivesDevice(rpc: Rpc, task: DirectivesTask): Promise<DirectivesResult> {
  const tap = new WireTap().install();
  const output = new TimedOutput();
  const bench = startBenchDevice(task.target, { output });
  const { device } = bench;
  try {
    await device.whenConnected();
    const clock = await calibrate(() => rpc.call<number>('now'));

    // When the chunk that completed each SetVolume reached JavaScript, by sequence number.
    const chunkAt = new Map<number, number>();
    const partsSub = device.connection.directives$.subscribe((part) => {
      if (part.kind !== 'directive' || part.result.kind !== 'ok') return;
      const id = part.result.header.messageId;
      if (id?.startsWith('bench-')) chunkAt.set(Number(id.slice('bench-'.length)), tap.lastChunkAt);
    });
    const reports: Record<string, number> = {};
    const reportsSub = device.reports$.subscribe((r: SenderReport) => {
      reports[r.kind] = (reports[r.kind] ?? 0) + 1;
    });

    let next = 0;
    const measure = async (count: number, rate: number, maxP99Ms: number): Promise<StepResult> => {
      const first = next;
      next += count;
      output.volumeCalls = [];
      for (const k of Object.keys(reports)) delete reports[k];
      const allCalled = new Promise<void>((resolve) => {
        output.onVolume = (n) => {
          if (n >= count) resolve();
        };
      });
      const log0 = bench.logBytes();
      const cpu0 = process.cpuUsage();
      const elu0 = performance.eventLoopUtilization();
      const wall0 = performance.now();
      const sentAt = await rpc.call<number[]>('push', { count, rate, first });
      // A device that keeps up is done within a few ms of the last push; one that does not gets a while.
      await Promise.race([allCalled, sleep(5000 + (count / rate) * 2000)]);
      const wallMs = performance.now() - wall0;
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0);
      output.onVolume = undefined;

      const calls = output.volumeCalls;
      const wire: number[] = [];
      const inJs: number[] = [];
      let mismatches = 0;
      for (let j = 0; j < Math.min(count, calls.length); j++) {
        const call = calls[j];
        if (call.volume !== volumeOf(first + j)) {
          mismatches++;
          continue;
        }
        wire.push(call.at + clock.offsetMs - sentAt[j]);
        const arrived = chunkAt.get(first + j);
        if (arrived !== undefined) inJs.push(call.at - arrived);
      }
      // To look at one step directive by directive: BENCH_DUMP_DIR=DIR writes its raw time points.
      const dumpDir = process.env.BENCH_DUMP_DIR;
      if (dumpDir) {
        const rows = sentAt.map((sent, j) => [sent - clock.offsetMs, chunkAt.get(first + j) ?? null, calls[j]?.at ?? null]);
        writeFileSync(join(dumpDir, `directives-${process.pid}-${rate}-${first}.json`), JSON.stringify({ rate, count, columns: ['sent', 'chunk', 'driver'], rows }));
      }
      for (let j = 0; j < count; j++) chunkAt.delete(first + j);
      const span = (sentAt[count - 1] - sentAt[0]) / 1000;
      const offeredRate = span > 0 ? (count - 1) / span : rate;
      const w = distribution(wire);
      const handled = Math.min(count, calls.length);
      return {
        rate,
        count,
        offeredRate,
        handled,
        mismatches,
        wire: w,
        inJs: distribution(inJs),
        cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
        systemCpuPercent: (cpu.system / 1000 / wallMs) * 100,
        loopUtilization: elu.utilization,
        logBytesPerDirective: (bench.logBytes() - log0) / count,
        reports: { ...reports },
        passed: handled === count && mismatches === 0 && w.p99 < maxP99Ms,
      };
    };
    /**
     * Between steps: the events the last one queued (VolumeChanged) drain, and directives a
     * step left behind are carried out, before the next step starts counting.
     */
    const settle = async () => {
      const deadline = Date.now() + 10_000;
      let seen = -1;
      while (Date.now() < deadline && (device.connection.outbox.size > 0 || output.volumeCalls.length !== seen)) {
        seen = output.volumeCalls.length;
        await sleep(100);
      }
    };

    await measure(task.warmup.count, task.warmup.rate, Infinity);
    await settle();
    const steady = await measure(task.steady.count, task.steady.rate, Infinity);
    await settle();

    const steps: StepResult[] = [];
    let maxRate = 0;
    let stoppedBy = 'every offered rate passed';
    for (const rate of task.search.rates) {
      const count = Math.max(task.search.minCount, Math.round(rate * task.search.seconds));
      const step = await measure(count, rate, task.search.maxP99Ms);
      steps.push(step);
      await settle();
      if (!step.passed) {
        stoppedBy =
          step.handled < count
            ? `at ${rate}/s only ${step.handled} of ${count} directives were carried out in time`
            : `at ${rate}/s p99 was ${step.wire.p99.toFixed(2)} ms`;
        break;
      }
      maxRate = Math.max(maxRate, Math.min(rate, step.offeredRate));
      if (step.offeredRate < 0.9 * rate) {
        stoppedBy = `the simulator could offer only ${Math.round(step.offeredRate)}/s of the ${rate}/s asked`;
        break;
      }
    }
    partsSub.unsubscribe();
    reportsSub.unsubscribe();
    return { clock, steady, steps, maxRate, stoppedBy };
  } finally {
    tap.uninstall();
    await bench.dispose();
  }
}

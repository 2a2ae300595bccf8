// Figure group 1: the directive pipeline (issue 11 item 1). The harness side: a fresh simulator
// and a fresh device process per run; the simulator pushes SetVolume at the rates the device
// process asks for. Targets: p99 ≤ 1 ms at 1,000 directives/s; ≥ 10,000 directives/s sustained
// (p99 under 5 ms).
import { BenchSim } from './bench-sim';
import { epochMs } from './clock';
import type { DirectivesResult, DirectivesTask } from './directives-device';
import type { Figure, GroupOptions, Mode } from './figures';
import { forkBench } from './ipc';
import { round } from './stats';

const PLAN: Record<Mode, { runs: number; task: Omit<DirectivesTask, 'target'> }> = {
  full: {
    runs: 5,
    task: {
      warmup: { count: 2000, rate: 1000 },
      steady: { count: 10_000, rate: 1000 },
      search: {
        rates: [250, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10_000, 12_000, 15_000, 20_000, 25_000, 30_000],
        seconds: 1,
        minCount: 1000,
        maxP99Ms: 5,
      },
    },
  },
  quick: {
    runs: 2,
    task: {
      warmup: { count: 500, rate: 1000 },
      steady: { count: 2000, rate: 1000 },
      search: { rates: [500, 1000, 2000, 5000, 10_000, 20_000], seconds: 0.3, minCount: 300, maxP99Ms: 5 },
    },
  },
  test: {
    runs: 1,
    task: {
      warmup: { count: 50, rate: 1000 },
      steady: { count: 200, rate: 1000 },
      search: { rates: [1000, 2000], seconds: 0.1, minCount: 100, maxP99Ms: 5 },
    },
  },
};

/** One run: a simulator here, the device in a fresh process. */
async function oneRun(task: Omit<DirectivesTask, 'target'>): Promise<DirectivesResult> {
  const sim = await BenchSim.start({ speakSilenceMs: 100, stopCaptureAfterMs: 1500 });
  const child = forkBench();
  child.rpc.handle('now', () => epochMs());
  child.rpc.handle('push', (a: { count: number; rate: number; first: number }) => sim.pushAtRate(a.count, a.rate, a.first));
  try {
    return await child.rpc.call<DirectivesResult>('run', { task: 'directives', options: { ...task, target: sim.target() } satisfies DirectivesTask });
  } finally {
    await child.close();
    await sim.stop();
  }
}

export async function directiveFigures(options: GroupOptions): Promise<Figure[]> {
  const plan = PLAN[options.mode];
  const results: DirectivesResult[] = [];
  for (let i = 0; i < (options.runs ?? plan.runs); i++) {
    const r = await oneRun(plan.task);
    results.push(r);
    options.progress(
      `directives run ${i + 1}: at 1000/s p50 ${r.steady.wire.p50.toFixed(3)} p99 ${r.steady.wire.p99.toFixed(3)} max ${r.steady.wire.max.toFixed(2)} ms; ` +
        `max rate ${Math.round(r.maxRate)}/s (${r.stoppedBy})`,
    );
  }
  const steps = results.map((r) =>
    r.steps.map((s) => ({
      rate: s.rate,
      offered_per_s: Math.round(s.offeredRate),
      handled: `${s.handled}/${s.count}`,
      p50_ms: round(s.wire.p50),
      p99_ms: round(s.wire.p99),
      max_ms: round(s.wire.max),
      in_js_p99_ms: round(s.inJs.p99),
      cpu_percent: round(s.cpuPercent, 1),
      reports: s.reports,
      passed: s.passed,
    })),
  );
  return [
    {
      key: 'directive_p99_ms_at_1000_per_s',
      label: 'directive → driver p99 @1000/s',
      unit: 'ms',
      values: results.map((r) => r.steady.wire.p99),
      target: { op: '<=', value: 1 },
      details: {
        directives_per_run: plan.task.steady.count,
        p50_ms: results.map((r) => round(r.steady.wire.p50)),
        p99_ms: results.map((r) => round(r.steady.wire.p99)),
        max_ms: results.map((r) => round(r.steady.wire.max)),
        in_js_p50_ms: results.map((r) => round(r.steady.inJs.p50)),
        in_js_p99_ms: results.map((r) => round(r.steady.inJs.p99)),
        device_cpu_percent: results.map((r) => round(r.steady.cpuPercent, 1)),
        device_system_cpu_percent: results.map((r) => round(r.steady.systemCpuPercent, 1)),
        device_loop_utilization: results.map((r) => round(r.steady.loopUtilization)),
        log_bytes_per_directive: results.map((r) => round(r.steady.logBytesPerDirective, 1)),
        event_reports: results.map((r) => r.steady.reports),
        clock_offset_ms: results.map((r) => round(r.clock.offsetMs)),
        clock_rtt_ms: results.map((r) => round(r.clock.rttMs)),
      },
    },
    {
      key: 'directive_p50_ms_at_1000_per_s',
      label: 'directive → driver p50 @1000/s',
      unit: 'ms',
      values: results.map((r) => r.steady.wire.p50),
    },
    {
      key: 'directive_max_ms_at_1000_per_s',
      label: 'directive → driver max @1000/s',
      unit: 'ms',
      values: results.map((r) => r.steady.wire.max),
    },
    {
      key: 'directive_in_js_p99_ms_at_1000_per_s',
      label: 'directive: chunk in JS → driver p99',
      unit: 'ms',
      values: results.map((r) => r.steady.inJs.p99),
    },
    {
      key: 'directive_cpu_us_at_1000_per_s',
      label: 'directive: device CPU each @1000/s',
      unit: 'µs',
      values: results.map((r) => (r.steady.cpuPercent * 10_000) / r.steady.rate),
    },
    {
      key: 'directive_max_rate_per_s',
      label: 'directives sustained (p99 < 5 ms)',
      unit: '/s',
      values: results.map((r) => r.maxRate),
      target: { op: '>=', value: 10_000 },
      details: { stopped_by: results.map((r) => r.stoppedBy), steps },
    },
  ];
}

// Figure groups 5 and 6 (issue 11 items 5 and 6), the harness side: each run is a fresh device
// process against a fresh simulator (which answers at once: StopCapture after 50 ms of audio,
// a Speak of 100 ms). Targets: RSS after start ≤ 60 MB; growth between turn 1,000 and 10,000
// ≤ 2 MB; process start → CONNECTED ≤ 500 ms; idle CPU ≤ 1 %.
import { BenchSim } from './bench-sim';
import type { Figure, GroupOptions, Mode } from './figures';
import { forkBench } from './ipc';
import type { LifecycleResult, LifecycleTask } from './lifecycle-device';
import { round } from './stats';

const PLAN: Record<Mode, { runs: number; idleMs: number; turns: number; baselineTurn: number; memoryEvery: number }> = {
  full: { runs: 3, idleMs: 60_000, turns: 10_000, baselineTurn: 1000, memoryEvery: 1000 },
  quick: { runs: 2, idleMs: 5000, turns: 1000, baselineTurn: 100, memoryEvery: 300 },
  test: { runs: 1, idleMs: 300, turns: 20, baselineTurn: 5, memoryEvery: 10 },
};

async function oneRun(plan: (typeof PLAN)[Mode]): Promise<LifecycleResult> {
  const sim = await BenchSim.start({ speakSilenceMs: 100, stopCaptureAfterMs: 50 });
  const child = forkBench();
  try {
    const task: LifecycleTask = { target: sim.target(), idleMs: plan.idleMs, turns: plan.turns, baselineTurn: plan.baselineTurn, memoryEvery: plan.memoryEvery };
    return await child.rpc.call<LifecycleResult>('run', { task: 'lifecycle', options: task });
  } finally {
    await child.close();
    await sim.stop();
  }
}

export async function lifecycleFigures(options: GroupOptions): Promise<Figure[]> {
  const plan = PLAN[options.mode];
  const runs: LifecycleResult[] = [];
  for (let i = 0; i < (options.runs ?? plan.runs); i++) {
    const r = await oneRun(plan);
    runs.push(r);
    const [base, last] = [r.memory[0], r.memory.at(-1)];
    options.progress(
      `lifecycle run ${i + 1}: CONNECTED at ${r.connectedMs.toFixed(0)} ms, RSS ${r.start.rssMb.toFixed(1)} MB; idle CPU ${r.idle.cpuPercent.toFixed(3)} % over ${(r.idle.wallMs / 1000).toFixed(0)} s; ` +
        `${r.turnsDone} turns in ${(r.turnsMs / 1000).toFixed(1)} s, RSS ${base?.rssMb.toFixed(1)} → ${last?.rssMb.toFixed(1)} MB, heap ${base?.heapUsedMb.toFixed(2)} → ${last?.heapUsedMb.toFixed(2)} MB`,
    );
  }
  const growth = (r: LifecycleResult, what: 'rssMb' | 'heapUsedMb') => (r.memory.at(-1)?.[what] ?? NaN) - (r.memory[0]?.[what] ?? NaN);
  return [
    {
      key: 'start_to_connected_ms',
      label: 'process start → CONNECTED',
      unit: 'ms',
      values: runs.map((r) => r.connectedMs),
      target: { op: '<=', value: 500 },
      details: {
        node_and_tsx_ms: runs.map((r) => round(r.entryMs, 1)),
        runtime_modules_loaded_ms: runs.map((r) => round(r.loadedMs, 1)),
        create_device_returned_ms: runs.map((r) => round(r.createdMs, 1)),
      },
    },
    {
      key: 'rss_start_mb',
      label: 'RSS after start',
      unit: 'MB',
      values: runs.map((r) => r.start.rssMb),
      target: { op: '<=', value: 60 },
      details: {
        rss_anon_mb: runs.map((r) => round(r.start.rssAnonMb, 1)),
        rss_file_mb: runs.map((r) => round(r.start.rssFileMb, 1)),
        heap_used_mb: runs.map((r) => round(r.start.heapUsedMb, 2)),
        heap_total_mb: runs.map((r) => round(r.start.heapTotalMb, 2)),
        external_mb: runs.map((r) => round(r.start.externalMb, 2)),
      },
    },
    {
      key: 'rss_start_anon_mb',
      label: 'RSS after start, anonymous only',
      unit: 'MB',
      values: runs.map((r) => r.start.rssAnonMb),
    },
    {
      key: 'rss_growth_mb_10k_turns',
      label: `RSS growth, turn ${plan.baselineTurn} → ${plan.turns}`,
      unit: 'MB',
      values: runs.map((r) => growth(r, 'rssMb')),
      target: { op: '<=', value: 2 },
      details: {
        turns: plan.turns,
        baseline_turn: plan.baselineTurn,
        points: runs.map((r) =>
          r.memory.map((m) => ({
            turn: m.turn,
            rss_mb: round(m.rssMb, 2),
            rss_anon_mb: round(m.rssAnonMb, 2),
            heap_used_mb: round(m.heapUsedMb, 3),
            heap_total_mb: round(m.heapTotalMb, 3),
            external_mb: round(m.externalMb, 3),
          })),
        ),
        ms_per_turn: runs.map((r) => round(r.turnsMs / Math.max(1, r.turnsDone), 2)),
      },
    },
    {
      key: 'heap_growth_mb_10k_turns',
      label: `heap growth, turn ${plan.baselineTurn} → ${plan.turns}`,
      unit: 'MB',
      values: runs.map((r) => growth(r, 'heapUsedMb')),
      target: { op: '<=', value: 2 },
    },
    {
      key: 'rss_after_turns_mb',
      label: `RSS after ${plan.turns} turns`,
      unit: 'MB',
      values: runs.map((r) => r.memory.at(-1)?.rssMb ?? NaN),
      target: { op: '<=', value: 60 },
    },
    {
      key: 'idle_cpu_percent',
      label: `idle CPU (connected, ${plan.idleMs / 1000} s)`,
      unit: '%',
      values: runs.map((r) => r.idle.cpuPercent),
      target: { op: '<=', value: 1 },
      details: { window_s: plan.idleMs / 1000, cpu_user_ms: runs.map((r) => round(r.idle.cpuUserMs, 1)), cpu_system_ms: runs.map((r) => round(r.idle.cpuSystemMs, 1)) },
    },
  ];
}

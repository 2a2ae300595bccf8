// Figure groups 5 and 6, the device's side (a fresh process per run): how long from the process
// starting to CONNECTED, the RSS once connected, the CPU it uses while idle and connected (only
// its timers run), and its memory over many full dialog turns (Recognize → Speak →
// SpeechFinished) against a simulator that answers at once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import type { DeviceTarget } from './bench-device';
import { dialogTurn } from './turn';
import { sleep } from './clock';

export interface LifecycleTask {
  readonly target: DeviceTarget;
  /** How long the idle CPU is measured over (issue 11: 60 s). */
  readonly idleMs: number;
  /** Full dialog turns (issue 11: 10,000) … */
  readonly turns: number;
  /** … with memory read after a collection at this turn (1,000) and at the last … */
  readonly baselineTurn: number;
  /** … and every so many turns between (the shape of any growth: a plateau or a line). */
  readonly memoryEvery?: number;
}

export interface MemoryPoint {
  readonly turn: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
  readonly externalMb: number;
  readonly rssAnonMb: number;
  readonly rssFileMb: number;
}

export interface LifecycleResult {
  /** ms since the process started (performance.timeOrigin) when… the bench's entry module ran (after node and tsx), */
  readonly entryMs: number;
  /** …the runtime's modules were loaded, */
  readonly loadedMs: number;
  /** …createDevice returned, */
  readonly createdMs: number;
  /** …and the device was CONNECTED (downchannel open, SynchronizeState answered). */
  readonly connectedMs: number;
  /** RSS and heap right after CONNECTED (no collection forced). */
  readonly start: MemoryPoint;
  readonly idle: { readonly wallMs: number; readonly cpuUserMs: number; readonly cpuSystemMs: number; readonly cpuPercent: number };
  /** After a collection: at the baseline turn, every `memoryEvery` turns, and after the last. */
  readonly memory: readonly MemoryPoint[];
  readonly turnsDone: number;
  readonly turnsMs: number;
}

const MB = 1024 * 1024;

/** Linux: the RSS split into anonymous memory (heaps, buffers) and file pages (the node binary, native modules). */
function rssParts(): { rssAnonMb: number; rssFileMb: number } {
  try {
    const status = readFileSync('/proc/self/status', 'latin1');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
    return { rssAnonMb: kb('RssAnon'), rssFileMb: kb('RssFile') + kb('RssShmem') };
  } catch {
    return { rssAnonMb: NaN, rssFileMb: NaN };
  }
}

const memoryPoint = (turn: number): MemoryPoint => {
  const m = process.memoryUsage();
  return { turn, rssMb: m.rss / MB, heapUsedMb: m.heapUsed / MB, heapTotalMb: m.heapTotal / MB, externalMb: m.external / MB, ...rssParts() };
};

/** A full collection (the bench processes run with --expose-gc), twice so weak references and finalizers settle too. */
function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

export async function runLifecycleDevice(task: LifecycleTask, entryMs: number): Promise<LifecycleResult> {
  // The runtime is loaded here, not at this module's top, so its loading counts in `loadedMs`.
  const { startBenchDevice } = require('./bench-device') as typeof import('./bench-device');
  const { BenchMicrophone, TimedOutput } = require('./timed-drivers') as typeof import('./timed-drivers');
  const loadedMs = performance.now();
  const microphone = new BenchMicrophone({ burst: 5 });
  const output = new TimedOutput();
  const bench = startBenchDevice(task.target, { output, microphone });
  const { device } = bench;
  const createdMs = performance.now();
  try {
    await device.whenConnected();
    const connectedMs = performance.now();
    const start = memoryPoint(0);

    // Idle and connected: nothing runs but the device's own timers (a ping after 5 min of
    // silence, the clock's checks), after a moment for the start's last answers to settle.
    await sleep(500);
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    await sleep(task.idleMs);
    const wallMs = performance.now() - wall0;
    const cpu = process.cpuUsage(cpu0);
    const idle = {
      wallMs,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    };

    // Full turns, each as a user would have it: tap, AVS ends the capture at once, the Speak plays
    // to its end, SpeechFinished; the next tap once the recognizer is idle again.
    const memory: MemoryPoint[] = [];
    const t0 = performance.now();
    let done = 0;
    for (let i = 1; i <= task.turns; i++) {
      await dialogTurn(device);
      // The bench's own records must not grow with the turns.
      microphone.clear();
      output.clear();
      done = i;
      const every = task.memoryEvery;
      if (i === task.baselineTurn || i === task.turns || (every !== undefined && i > task.baselineTurn && i % every === 0)) {
        collect();
        memory.push(memoryPoint(i));
        // To find what grows: BENCH_HEAP_SNAPSHOT_DIR=DIR writes a heap snapshot at each point.
        const dir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
        if (dir) writeHeapSnapshot(join(dir, `turn-${i}-${process.pid}.heapsnapshot`));
      }
    }
    return { entryMs, loadedMs, createdMs, connectedMs, start, idle, memory, turnsDone: done, turnsMs: performance.now() - t0 };
  } finally {
    await bench.dispose();
  }
}

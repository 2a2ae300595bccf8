// Issue 12, fuzzing: over 100,000 generated inputs against the multipart reader, the directive
// decoder and the pipeline's entry (fuzz-targets.ts says what each one generates and checks):
// never a throw past the boundary, never a hang, memory bounded.
//
// Each target runs in a child process (test/fixtures/scripts/fuzz.ts) with --expose-gc, so memory
// is measured after a real collection, and under a heap cap, so a runaway allocation ends it. The
// child reports progress eight times; one that goes silent for two minutes has hung (the cases
// are synchronous and take well under a millisecond each: no case comes near that) and is killed.
// The figures go to coverage/reliability/fuzz.json for the README.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TARGETS } from './fuzz-targets';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'test', 'fixtures', 'scripts', 'fuzz.ts');
const SEED = 20_260_112;
/** Silence this long means a hang. */
const HANG_MS = 120_000;
/** Growth of the heap (after GC) from the first quarter of a run to its end. */
const MAX_GROWTH = 16 * 1024 * 1024;

interface Outcome {
  readonly target: string;
  readonly title: string;
  readonly runs: number;
  readonly seed: number;
  readonly cases: number;
  readonly failed: boolean;
  readonly counterexample?: string;
  readonly error?: string;
  readonly path?: string;
  readonly memory: { readonly samples: number[]; readonly end: number; readonly baseline: number };
  readonly ms: number;
}

function runTarget(name: string): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=384', '--import', 'tsx', SCRIPT, name, String(TARGETS[name].runs), String(SEED)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let progress = 0;
    let watchdog: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`fuzz target ${name} hung: no progress for ${HANG_MS / 1000} s after case ${progress}`));
      }, HANG_MS);
    };
    arm();
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /"progress":(\d+)/g;
      for (let x = m.exec(out); x; x = m.exec(out)) progress = Number(x[1]);
      arm();
    });
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.includes('"done":true')) {
        reject(new Error(`fuzz target ${name} ended with ${signal ?? code} after case ${progress}:\n${err.slice(-3000)}`));
        return;
      }
      resolve(JSON.parse(last) as Outcome);
    });
  });
}

const names = Object.keys(TARGETS);
const outcomes = new Map<string, Outcome>();

beforeAll(async () => {
  // All at once: on a small machine they share its cores; nothing here is timed.
  for (const o of await Promise.all(names.map(runTarget))) outcomes.set(o.target, o);
}, 600_000);

afterAll(() => {
  if (outcomes.size !== names.length) return;
  const all = [...outcomes.values()];
  const figures = {
    cases: all.reduce((n, o) => n + o.cases, 0),
    failures: all.filter((o) => o.failed).length,
    seed: SEED,
    targets: Object.fromEntries(
      all.map((o) => [o.target, { title: o.title, cases: o.cases, failed: o.failed, memoryGrowthBytes: o.memory.end - o.memory.baseline, ms: o.ms }]),
    ),
  };
  mkdirSync(join(ROOT, 'coverage', 'reliability'), { recursive: true });
  writeFileSync(join(ROOT, 'coverage', 'reliability', 'fuzz.json'), `${JSON.stringify(figures, null, 2)}\n`);
  process.stdout.write(`fuzz: ${figures.cases} cases, ${figures.failures} failures (coverage/reliability/fuzz.json)\n`);
});

describe.each(names)('fuzz target %s', (name) => {
  it('never throws past the boundary, ends every body once, and gives the same parts however the input is cut', () => {
    const o = outcomes.get(name) as Outcome;
    if (o.failed) throw new Error(`${o.title}\ncounterexample: ${o.counterexample}\n(path ${o.path}, seed ${o.seed})\n${o.error}`);
    expect(o.cases).toBe(TARGETS[name].runs);
  });

  it('keeps memory bounded: the heap after GC does not grow over the run', () => {
    const { samples, end, baseline } = (outcomes.get(name) as Outcome).memory;
    expect(samples.length).toBeGreaterThanOrEqual(7);
    expect(end - baseline).toBeLessThan(MAX_GROWTH);
    for (const s of samples.slice(1)) expect(s - baseline).toBeLessThan(2 * MAX_GROWTH);
  });
});

it('runs at least 100,000 generated inputs in all', () => {
  expect([...outcomes.values()].reduce((n, o) => n + o.cases, 0)).toBeGreaterThanOrEqual(100_000);
});

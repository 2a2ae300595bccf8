// `npm run bench [-- --json] [-- --quick]`: the runtime's latency, throughput and memory,
// measured on 127.0.0.1 against the simulator (issue 11). Progress goes to stderr; stdout gets
// the table, or with --json exactly one JSON object.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatTable, GROUP_NAMES, runBench, toJson, type GroupName } from './harness';
import type { Mode } from './figures';

const USAGE = `usage: npm run bench -- [--quick] [--json] [--save FILE] [--only GROUPS] [--runs N]

Measures the device runtime against the simulator on 127.0.0.1 and prints a table of figures
(median of several runs, with min and max) and their targets.

  --quick        a shortened run of every figure (CI; checking the harness): same keys
  --json         print one JSON object (machine, Node, date, the medians, details) instead
  --save FILE    also write that JSON object to FILE
  --only GROUPS  comma-separated: ${GROUP_NAMES.join(', ')}
  --runs N       runs per figure instead of the mode's default
  --tiny         the smallest run there is (the harness's own test)
  --help         this text

npm prints its own banner on stdout first: for JSON alone use \`npm run -s bench -- --json\`.

To look into a figure (environment variables, for every measured process):
  BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR"  node flags, e.g. a CPU profile of each
  BENCH_DUMP_DIR=DIR          each directive step's time points, directive by directive
  BENCH_HEAP_SNAPSHOT_DIR=DIR heap snapshots at the two memory points of the turns
  BENCH_KEEP_LOGS=1           keep the device's log (info level) instead of removing it
  BENCH_NO_DATABASE=1         run the device without its SQLite database (what it costs)`;

function usage(message?: string): never {
  if (message) process.stderr.write(`bench: ${message}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(message ? 2 : 0);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        quick: { type: 'boolean', default: false },
        tiny: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        save: { type: 'string' },
        only: { type: 'string' },
        runs: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    usage((e as Error).message);
  }
  if (values.help) usage();
  const mode: Mode = values.tiny ? 'test' : values.quick ? 'quick' : 'full';
  const groups = values.only?.split(',').map((g) => g.trim());
  const unknown = groups?.find((g) => !(GROUP_NAMES as string[]).includes(g));
  if (unknown !== undefined) usage(`unknown group ${unknown}`);
  const runs = values.runs === undefined ? undefined : Number(values.runs);
  if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) usage(`--runs wants a positive integer, got ${values.runs}`);

  const report = await runBench({
    mode,
    ...(groups ? { groups: groups as GroupName[] } : {}),
    ...(runs ? { runs } : {}),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const json = `${JSON.stringify(toJson(report), null, 2)}\n`;
  if (values.save) writeFileSync(values.save, json);
  process.stdout.write(values.json ? json : `${formatTable(report)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

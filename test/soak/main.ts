// `npm run soak -- --turns N --seed S [--json]`: the fault-injection soak (test/soak/soak.ts).
// Its last line is the issue's summary; it exits 1 unless nothing was lost or duplicated, nothing
// crashed and every other check held (memory, recovery bound, attempt bound, no token in logs).
import { runSoak, summaryLine } from './soak';

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run soak -- --turns N --seed S [--json]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let turns = 200;
let seed = 1;
let json = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = () => {
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < 0) usage(`${a} takes a whole number`);
    return v;
  };
  if (a === '--turns') turns = value();
  else if (a === '--seed') seed = value();
  else if (a === '--json') json = true;
  else if (a === '--help' || a === '-h') usage('the fault-injection soak');
  else usage(`unknown argument ${a}`);
}
if (turns < 1) usage('--turns must be at least 1');
if (typeof (globalThis as { gc?: unknown }).gc !== 'function') process.stderr.write('soak: run with node --expose-gc for a true heap figure\n');

runSoak({ turns, seed, log: (line) => process.stdout.write(`${line}\n`) }).then(
  (r) => {
    for (const p of r.problems) process.stdout.write(`problem: ${p}\n`);
    const kinds = Object.entries(r.faultsByKind)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    process.stdout.write(`faults by kind: ${kinds || 'none'}\n`);
    process.stdout.write(`actions: ${Object.entries(r.actions).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    process.stdout.write(
      `checks: ${r.superseded} state reports superseded by a newer one, ${r.outOfOrder} out of order, ${r.resentUnanswered} re-sent after an answer that broke off, alerts late ${r.alertsLate} (max ${r.maxAlertLatenessMs} ms), ` +
        `recovery max ${r.maxRecoveryMs} ms (largest bound ${r.recoveryBoundMs} ms, ${r.recoveriesOverBound} over), ${r.maxAttemptsIn10Min} connection attempts in the busiest 10 minutes, heap growth ${r.heapGrowthMb} MB (bound ${r.heapBoundMb} MB), ${r.tokenLeaks} tokens in logs, ${Math.round(r.durationMs / 1000)} s\n`,
    );
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    process.stdout.write(`${summaryLine(r)}\n`);
    process.exitCode = r.lost === 0 && r.duplicated === 0 && r.crashes === 0 && r.problems.length === 0 ? 0 : 1;
  },
  (e: unknown) => {
    process.stdout.write(`problem: the soak could not run: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.stdout.write(`soak: ${turns} turns, 0 faults, 0 events checked, 0 alerts checked, lost 0, duplicated 0, crashes 1\n`);
    process.exitCode = 1;
  },
);

// Runs the figure groups and turns their figures into the report: a table for people, one JSON
// object for machines (issue 11). main.ts is the command line around it.
import { cpus, loadavg } from 'node:os';
import { dialogFigures } from './dialog';
import { directiveFigures } from './directives';
import { KEYS, summarize, type Figure, type GroupOptions, type Mode, type Summary } from './figures';
import { lifecycleFigures } from './lifecycle';
import { multipartFigures } from './multipart';
import { round } from './stats';

export const GROUPS = {
  directives: directiveFigures,
  multipart: multipartFigures,
  dialog: dialogFigures,
  lifecycle: lifecycleFigures,
} as const satisfies Record<string, (o: GroupOptions) => Promise<Figure[]>>;
export type GroupName = keyof typeof GROUPS;
export const GROUP_NAMES = Object.keys(GROUPS) as GroupName[];

export interface BenchOptions {
  readonly mode: Mode;
  readonly groups?: readonly GroupName[];
  readonly runs?: number;
  readonly progress?: (line: string) => void;
}

export interface Report {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly date: string;
  readonly mode: Mode;
  readonly seconds: number;
  /** The machine's 1-minute load average before and after (other work on it makes figures noisy). */
  readonly load: readonly [number, number];
  readonly summaries: readonly Summary[];
}

export async function runBench(options: BenchOptions): Promise<Report> {
  const progress = options.progress ?? (() => undefined);
  const started = Date.now();
  const loadBefore = loadavg()[0];
  const summaries: Summary[] = [];
  for (const name of options.groups ?? GROUP_NAMES) {
    const t0 = Date.now();
    progress(`bench: ${name} (${options.mode}) …`);
    const figures = await GROUPS[name]({ mode: options.mode, progress, ...(options.runs ? { runs: options.runs } : {}) });
    summaries.push(...figures.map(summarize));
    progress(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    node: process.version,
    date: new Date(started).toISOString(),
    mode: options.mode,
    seconds: (Date.now() - started) / 1000,
    load: [loadBefore, loadavg()[0]],
    summaries,
  };
}

const fmt = (x: number): string => {
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1000 ? Math.round(x).toString() : a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
};

/** The report as a Markdown table (it reads as one in a terminal too). */
export function formatTable(report: Report): string {
  const rows = report.summaries.map((s) => {
    const f = s.figure;
    const unit = f.unit === '×' ? '×' : ` ${f.unit}`;
    return [
      f.label,
      `${fmt(s.median)}${unit}`,
      fmt(s.min),
      fmt(s.max),
      f.target ? `${f.target.op === '<=' ? '≤' : '≥'} ${fmt(f.target.value)}${unit}` : '',
      s.met === undefined ? '' : s.met ? 'yes' : '**no**',
      String(s.runs.length),
    ];
  });
  const head = ['figure', 'median', 'min', 'max', 'target', 'met', 'runs'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [
    `${report.cpu} (${report.cores} cores), Node ${report.node}, ${report.date}, ${report.mode === 'full' ? 'full run' : report.mode}, ${report.seconds.toFixed(0)} s, ` +
      `load average ${report.load[0].toFixed(2)} → ${report.load[1].toFixed(2)}`,
    '',
    line(head),
    rule,
    ...rows.map(line),
  ].join('\n');
}

/** The report as issue 11's JSON object: machine, Node, date, every key (median), and the details. */
export function toJson(report: Report): Record<string, unknown> {
  const byKey = new Map(report.summaries.map((s) => [s.figure.key, s]));
  const keys = Object.fromEntries(KEYS.map((k) => [k, byKey.has(k) ? round((byKey.get(k) as Summary).median) : null]));
  const details = Object.fromEntries(
    report.summaries.map((s) => [
      s.figure.key,
      {
        unit: s.figure.unit,
        median: round(s.median),
        min: round(s.min),
        max: round(s.max),
        runs: s.runs.map((x) => round(x)),
        ...(s.figure.target ? { target: `${s.figure.target.op} ${s.figure.target.value}`, met: s.met } : {}),
        ...s.figure.details,
      },
    ]),
  );
  return {
    cpu: report.cpu,
    cores: report.cores,
    node: report.node,
    date: report.date,
    mode: report.mode,
    seconds: round(report.seconds, 1),
    load_average: report.load.map((x) => round(x, 2)),
    ...keys,
    details,
  };
}

// What every figure group hands back to the harness: one value per run for each figure, its
// target, and whatever else a reader needs to judge it (distributions, stages, causes).
import { overRuns, type OverRuns } from './stats';

/** The JSON keys of issue 11, in its order. */
export const KEYS = [
  'directive_p99_ms_at_1000_per_s',
  'directive_max_rate_per_s',
  'multipart_mb_per_s',
  'multipart_vs_dicer',
  'capture_to_wire_p99_ms',
  'attachment_to_output_ms',
  'end_of_speech_to_speech_started_ms',
  'rss_start_mb',
  'rss_growth_mb_10k_turns',
  'start_to_connected_ms',
  'idle_cpu_percent',
] as const;
export type Key = (typeof KEYS)[number];

export interface Target {
  readonly op: '<=' | '>=';
  readonly value: number;
}

export interface Figure {
  /** A JSON key of issue 11, or a name of our own for a figure shown in the table and under `details`. */
  readonly key: Key | string;
  readonly label: string;
  readonly unit: string;
  /** One value per run. */
  readonly values: readonly number[];
  readonly target?: Target;
  /** Everything else worth keeping (per-run distributions, stages, what limited it). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** How long and how often: the full bench, `--quick`, or the tiny one the harness test runs. */
export type Mode = 'full' | 'quick' | 'test';

export interface GroupOptions {
  readonly mode: Mode;
  /** Runs per figure (default by mode). */
  readonly runs?: number;
  /** Progress lines (stderr). */
  readonly progress: (line: string) => void;
}

export const met = (value: number, target: Target | undefined): boolean | undefined =>
  target === undefined || !Number.isFinite(value) ? undefined : target.op === '<=' ? value <= target.value : value >= target.value;

export interface Summary extends OverRuns {
  readonly figure: Figure;
  readonly met: boolean | undefined;
}

export function summarize(figure: Figure): Summary {
  const s = overRuns(figure.values);
  return { ...s, figure, met: met(s.median, figure.target) };
}

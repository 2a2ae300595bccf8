// Model-based tests (issue 10, CONVENTIONS.md): paths generated from a machine's own graph
// (XState's `xstate/graph`), each run against the real implementation — the machine provided with
// fake actors — asserting at every step what the outside world sees: the state reached, and every
// AVS event it emits a valid message (§2.1). The states and transitions the paths cover, against
// the machine's chart (runtime/inspector/chart.ts), are written to coverage/model/<name>.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedClock, createActor, type AnyStateMachine } from 'xstate';
import { getShortestPaths, type StatePath } from 'xstate/graph';
import { buildOutboundEvent, decodeDirective, directiveEvent, eventNeedsContext, type AnyDirectiveEvent, type ContextEntry, type OutboundEvent } from '../../machines/catalog';
import { chartJson } from '../../runtime/inspector/chart';
import { activeStateIds } from '../../runtime/inspector/server';

const FIXTURES = join(__dirname, '..', 'fixtures', 'messages', 'valid');
export const COVERAGE_DIR = join(__dirname, '..', '..', 'coverage', 'model');

/** The directive event of a valid example message (`test/fixtures/messages/valid/<Namespace.Name>.json`). */
export function directiveSample(name: string): AnyDirectiveEvent {
  const result = decodeDirective(JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')), { lenient: true });
  if (result.kind !== 'ok') throw new Error(`${name}.json is not a valid directive`);
  return directiveEvent(result.value, 0);
}

/** A full context for events that carry one (their validity is what the model checks). */
const CONTEXT: ContextEntry[] = [{ header: { namespace: 'Speaker', name: 'VolumeState' }, payload: { volume: 50, muted: false } }];

export interface ModelOptions {
  /** One sample of every event the machine handles (with realistic payloads). */
  readonly events: readonly ({ readonly type: string } & Readonly<Record<string, unknown>>)[];
  readonly input?: unknown;
  /** Bound the paths (simple paths explode on big machines). */
  readonly paths?: 'shortest' | 'simple';
  /** Collapse states by value only (context variations would make the graph infinite). */
  readonly byValue?: boolean;
  /** Why a state or transition of the chart cannot be reached: listed, so the figure is honest. */
  readonly unreachable?: Readonly<Record<string, string>>;
  readonly maxPaths?: number;
}

export interface Figure {
  readonly states: [number, number];
  readonly transitions: [number, number];
}

/** A named delay is a function of the context: the clock moves on far enough for it. */
const LONG_DELAY_MS = 400 * 24 * 3600_000;

const transitionKey = (t: { source: string; event: string; targets: readonly string[] }) => `${t.source} --${t.event}--> ${t.targets.join(',')}`;

/** Generates the paths, runs each against a fresh actor, returns and writes the coverage figure. */
export async function runModel(name: string, machine: AnyStateMachine, options: ModelOptions): Promise<Figure> {
  // getShortestPaths, not createTestModel: the test model refuses machines that invoke actors,
  // and every interface machine does (its drivers); the traversal does not start them.
  const shortest = getShortestPaths(machine, {
    events: options.events as never,
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.byValue ? { serializeState: (s: { value: unknown }) => JSON.stringify(s.value) } : {}),
  } as never) as StatePath<ReturnType<AnyStateMachine['getInitialSnapshot']>, { type: string }>[];
  // Transition coverage: from every state a shortest path reaches, every sample event once more.
  const runs: { description: string; events: { type: string }[] }[] = [];
  for (const path of shortest.slice(0, options.maxPaths ?? 200)) {
    // A delay (`xstate.after.<delay>.<state>`) is taken by moving the simulated clock on.
    const events = path.steps.map((s) => s.event).filter((e) => e.type !== 'xstate.init' && (!e.type.startsWith('xstate.') || e.type.startsWith('xstate.after.')));
    runs.push({ description: path.steps.map((s) => s.event.type).join(' → '), events });
    for (const extra of options.events) runs.push({ description: `${events.map((e) => e.type).join(' → ')} → ${extra.type}`, events: [...events, extra] });
  }
  const chart = chartJson(machine);
  const coveredStates = new Set<string>();
  const coveredTransitions = new Set<string>();
  const cover = (before: unknown, event: { type: string }, after: unknown) => {
    const from = new Set(before === undefined ? [] : activeStateIds(machine.id, before));
    const to = new Set(activeStateIds(machine.id, after));
    for (const s of to) coveredStates.add(s);
    coveredStates.add(machine.id);
    for (const t of chart.transitions) {
      // A transient state (left at once by `always`) is never seen in a snapshot: it was passed
      // through when one of its targets is reached from outside it.
      if (t.kind === 'always') {
        if (!from.has(t.source) && !to.has(t.source) && t.targets.some((target) => to.has(target) && !from.has(target))) {
          if (chart.transitions.filter((u) => u.source === t.source).every((u) => u.kind === 'always')) {
            coveredStates.add(t.source);
            coveredTransitions.add(transitionKey(t));
          }
        } else if (from.has(t.source) && t.targets.some((target) => to.has(target) && !from.has(target))) coveredTransitions.add(transitionKey(t));
        continue;
      }
      if (!from.has(t.source) || t.event !== event.type) continue;
      if (t.targets.length === 0 || t.targets.every((target) => to.has(target))) coveredTransitions.add(transitionKey(t));
    }
  };
  for (const run of runs) {
    // The real implementation: a fresh actor, the path's events, its emitted events checked.
    const clock = new SimulatedClock();
    const actor = createActor(machine, { clock, ...(options.input !== undefined ? { input: options.input } : {}) }) as ReturnType<typeof createActor<AnyStateMachine>>;
    const emitted: { type: string }[] = [];
    actor.on('*', (e: { type: string }) => emitted.push(e));
    actor.start();
    let before: unknown = actor.getSnapshot().value;
    cover(undefined, { type: 'xstate.init' }, before);
    for (const event of run.events) {
      if (event.type.startsWith('xstate.after.')) {
        const delay = Number(event.type.split('.')[2]);
        clock.increment(Number.isFinite(delay) ? delay : LONG_DELAY_MS);
      } else actor.send(event);
      const after = actor.getSnapshot().value;
      cover(before, event, after);
      before = after;
    }
    // Every AVS event it sent is a valid message (§2.1), with context where it needs one.
    for (const e of emitted.filter((x): x is OutboundEvent => x.type === 'AVS.EVENT')) {
      try {
        buildOutboundEvent(e, eventNeedsContext(e.namespace, e.name) ? { context: CONTEXT } : {});
      } catch (error) {
        throw new Error(`${name}: ${run.description}: ${(error as Error).message}`);
      }
    }
    actor.stop();
  }
  const unreachable = options.unreachable ?? {};
  const states = chart.states.map((s) => s.id);
  const transitions = chart.transitions.map(transitionKey);
  const figure: Figure = {
    states: [states.filter((s) => coveredStates.has(s)).length, states.length],
    transitions: [transitions.filter((t) => coveredTransitions.has(t)).length, transitions.length],
  };
  mkdirSync(COVERAGE_DIR, { recursive: true });
  writeFileSync(
    join(COVERAGE_DIR, `${name}.json`),
    JSON.stringify(
      {
        ...figure,
        paths: runs.length,
        uncoveredStates: states.filter((s) => !coveredStates.has(s)),
        uncoveredTransitions: transitions.filter((t) => !coveredTransitions.has(t)),
        unreachable,
      },
      null,
      2,
    ),
  );
  return figure;
}

function expectSame(name: string, description: string, model: unknown, real: unknown): void {
  if (JSON.stringify(model) !== JSON.stringify(real)) throw new Error(`${name}: ${description}: the model is in ${JSON.stringify(model)}, the machine in ${JSON.stringify(real)}`);
}

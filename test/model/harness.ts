// Model-based tests (issue 10, CONVENTIONS.md): paths generated from a machine's own graph
// (XState's `xstate/graph`), each run against the real implementation — the machine provided with
// recording fake drivers, hosted in a parent that stands in for the device (a fake focus manager,
// a parent for machines that report with sendParent), on XState's SimulatedClock — asserting at
// every step what the outside world sees: the state the model predicts, every AVS event it emits
// a valid message (§2.1), and the machine's own rules (`check`: events sent, driver calls,
// context). The states and transitions the runs take (from XState's inspection stream: the
// transitions actually selected, so guarded alternatives count apart) are written to
// coverage/model/<name>.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SimulatedClock,
  createActor,
  createMachine,
  fromCallback,
  transition as pureTransition,
  type AnyActorRef,
  type AnyEventObject,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type AnyTransitionDefinition,
} from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { buildOutboundEvent, decodeDirective, directiveEvent, eventNeedsContext, type AnyDirectiveEvent, type ContextEntry, type OutboundEvent } from '../../machines/catalog';
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

export type SampleEvent = { readonly type: string } & Readonly<Record<string, unknown>>;

/** What one fake driver (an invoked or spawned actor, or a recorder under a systemId) saw. */
export interface DriverCall {
  readonly driver: string;
  readonly kind: 'start' | 'receive' | 'stop';
  readonly input?: unknown;
  readonly event?: SampleEvent;
  /** The step of the run it happened in (0: while starting). */
  readonly step: number;
}

/** Recording fakes for a machine's actors: what was started with which input, told what, stopped. */
export class Drivers {
  readonly calls: DriverCall[] = [];
  step = 0;
  private readonly live = new Map<string, number>();

  running(driver: string): boolean {
    return (this.live.get(driver) ?? 0) > 0;
  }

  /** How many of that driver run now. */
  count(driver: string): number {
    return this.live.get(driver) ?? 0;
  }

  /** What the driver was told in this step. */
  told(driver: string): SampleEvent[] {
    return this.now(driver, 'receive').map((c) => c.event as SampleEvent);
  }

  /** The input of the driver's start in this step, if it started. */
  startedWith(driver: string): unknown[] {
    return this.now(driver, 'start').map((c) => c.input);
  }

  /** The calls of this step (optionally of one driver and kind). */
  now(driver?: string, kind?: DriverCall['kind']): DriverCall[] {
    return this.calls.filter((c) => c.step === this.step && (driver === undefined || c.driver === driver) && (kind === undefined || c.kind === kind));
  }

  /** An actor that records and never finishes by itself (its results are sample events). */
  fake(driver: string) {
    return fromCallback<AnyEventObject, unknown>(({ input, receive }) => {
      this.calls.push({ driver, kind: 'start', input, step: this.step });
      this.live.set(driver, (this.live.get(driver) ?? 0) + 1);
      receive((event) => this.calls.push({ driver, kind: 'receive', event: event as SampleEvent, step: this.step }));
      return () => {
        this.live.set(driver, (this.live.get(driver) ?? 1) - 1);
        this.calls.push({ driver, kind: 'stop', step: this.step });
      };
    });
  }
}

export interface Step {
  /** The event of this step (a delay's `xstate.after…` is the clock moved on to it). */
  readonly event: SampleEvent;
  readonly index: number;
  readonly before: AnyMachineSnapshot;
  readonly after: AnyMachineSnapshot;
  /** What the machine emitted in this step (AVS events, commands to the runtime). */
  readonly emitted: readonly SampleEvent[];
  /** The AVS events among them. */
  readonly avs: readonly OutboundEvent[];
  /** What it sent its parent in this step. */
  readonly toParent: readonly SampleEvent[];
  readonly drivers: Drivers;
  /** Everything emitted since the run started, this step included. */
  readonly allEmitted: readonly SampleEvent[];
  readonly clock: SimulatedClock;
}

/** The results an invoked actor can give (`xstate.done.actor…` / `xstate.error.actor…` sample events). */
export interface ActorResults {
  readonly done?: readonly unknown[];
  readonly error?: readonly unknown[];
}

export interface ModelOptions {
  /** One sample of every event the machine handles (with realistic payloads). */
  readonly events: readonly SampleEvent[];
  readonly input?: unknown;
  /** Several inputs (e.g. a persisted state): the model is run from each, the coverage is their union. */
  readonly inputs?: readonly unknown[];
  /** Collapse states by value only (context variations would make the graph infinite). */
  readonly byValue?: boolean;
  /** With byValue: what of the context tells states apart besides the value (kept small: the graph must stay finite). */
  readonly summary?: (snapshot: AnyMachineSnapshot) => unknown;
  /** Actors (by src name) replaced with recording fakes in the real runs. */
  readonly drivers?: readonly string[];
  /** Sample outputs/errors of the invoked actors, by src: generated as done/error events wherever they run. */
  readonly results?: Readonly<Record<string, ActorResults>>;
  /** Recorders registered under these systemIds (the machine reaches them with system.get): `focus` by default. */
  readonly recorders?: readonly string[];
  /** The systemId of the machine in the host (the device's). */
  readonly systemId?: string;
  /**
   * The machine the graph is generated from, when the machine itself cannot be traversed alone
   * (one that reports with sendParent: the traversal has no parent). Same states and transitions.
   */
  readonly traversal?: AnyStateMachine;
  /** The machine's rules, checked after every step of every run (throw, or jest's expect). */
  readonly check?: (step: Step) => void;
  /** Why a state or transition of the chart cannot be reached (by coverage key): listed, so the figure is honest. */
  readonly unreachable?: Readonly<Record<string, string>>;
  readonly maxPaths?: number;
}

export interface Figure {
  readonly states: [number, number];
  readonly transitions: [number, number];
  readonly runs: number;
  readonly uncoveredStates: string[];
  readonly uncoveredTransitions: string[];
}

const stateIdOf = (node: AnyStateNode): string => node.id;

/** Every transition of a machine by a readable key (guarded alternatives apart), as the chart draws them. */
function transitionKeys(machine: AnyStateMachine): Map<AnyTransitionDefinition, string> {
  const keys = new Map<AnyTransitionDefinition, string>();
  const walk = (node: AnyStateNode) => {
    const add = (t: AnyTransitionDefinition, eventType: string, index: number, count: number) => {
      const guard = typeof t.guard === 'string' ? t.guard : t.guard && typeof t.guard === 'object' && 'type' in t.guard ? String((t.guard as { type: unknown }).type) : t.guard ? 'guard' : '';
      const targets = (t.target ?? []).map(stateIdOf).join(',');
      keys.set(t, `${stateIdOf(node)} --${eventType || '(always)'}${guard ? ` [${guard}]` : ''}${count > 1 ? ` #${index + 1}` : ''}--> ${targets}`);
    };
    for (const [eventType, list] of node.transitions) list.forEach((t, i) => add(t, eventType, i, list.length));
    (node.always ?? []).forEach((t, i, list) => add(t, '', i, list.length));
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return keys;
}

function stateIds(machine: AnyStateMachine): string[] {
  const ids: string[] = [];
  const walk = (node: AnyStateNode) => {
    ids.push(stateIdOf(node));
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return ids;
}

/** The nodes active in a snapshot. */
const activeNodes = (machine: AnyStateMachine, value: unknown): AnyStateNode[] => activeStateIds(machine.id, value).map((id) => machine.getStateNodeById(id));

/**
 * The events worth trying in a state: the samples, every delay of an active state (taken by
 * moving the clock on), every result of an actor an active state invokes.
 */
function eventsIn(machine: AnyStateMachine, options: ModelOptions, snapshot: AnyMachineSnapshot): SampleEvent[] {
  // A machine in a final state is done: it takes no more events.
  if (snapshot.status !== 'active') return [];
  const events: SampleEvent[] = [...options.events];
  for (const node of activeNodes(machine, snapshot.value)) {
    for (const t of node.after) events.push({ type: t.eventType });
    for (const invoke of node.invoke) {
      const src = typeof invoke.src === 'string' ? invoke.src : undefined;
      const results = src ? options.results?.[src] : undefined;
      for (const output of results?.done ?? []) events.push({ type: `xstate.done.actor.${invoke.id}`, output, actorId: invoke.id });
      for (const error of results?.error ?? []) events.push({ type: `xstate.error.actor.${invoke.id}`, error, actorId: invoke.id });
    }
  }
  return events;
}

/** A simulated clock that knows when each of the system's scheduled events is due. */
class ModelClock extends SimulatedClock {
  system: { _snapshot: { _scheduledEvents: Record<string, { event: { type: string }; delay: number }> } } | undefined;
  private readonly due = new WeakMap<object, number>();

  override setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const id = super.setTimeout(fn, timeout);
    for (const scheduled of Object.values(this.system?._snapshot._scheduledEvents ?? {})) if (!this.due.has(scheduled)) this.due.set(scheduled, this.now() + timeout);
    return id;
  }

  /** Moves on to the moment the delayed event fires (an error when the machine has no such timer). */
  fire(type: string): void {
    const scheduled = Object.values(this.system?._snapshot._scheduledEvents ?? {}).find((s) => s.event.type === type);
    const at = scheduled ? this.due.get(scheduled) : undefined;
    if (at === undefined) throw new Error(`the model takes ${type}, but the machine has no such timer running`);
    this.set(at);
  }
}

const isAvs = (e: SampleEvent): e is SampleEvent & OutboundEvent => e.type === 'AVS.EVENT';

/** Generates the paths, runs each against the real machine, returns and writes the coverage figure. */
export async function runModel(name: string, machine: AnyStateMachine, options: ModelOptions): Promise<Figure> {
  const serialize = (s: { value: unknown }) => JSON.stringify(options.summary ? [s.value, options.summary(s as AnyMachineSnapshot)] : s.value);
  const allStates = stateIds(machine);
  const allTransitions = [...transitionKeys(machine).values()];
  const coveredStates = new Set<string>();
  const coveredTransitions = new Set<string>();
  let runCount = 0;
  for (const input of options.inputs ?? [options.input]) {
    runCount += runFrom(name, machine, { ...options, input }, serialize, coveredStates, coveredTransitions);
  }
  return report(name, options, allStates, allTransitions, coveredStates, coveredTransitions, runCount);
}

function runFrom(
  name: string,
  machine: AnyStateMachine,
  options: ModelOptions,
  serialize: (s: { value: unknown }) => string,
  coveredStates: Set<string>,
  coveredTransitions: Set<string>,
): number {
  // getShortestPaths, not createTestModel: the test model refuses machines that invoke actors,
  // and every interface machine does (its drivers); the traversal does not start them.
  const model = options.traversal ?? machine;
  const paths = getShortestPaths(model, {
    events: ((snapshot: AnyMachineSnapshot) => eventsIn(machine, options, snapshot)) as never,
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.byValue ? { serializeState: serialize } : {}),
  } as never) as unknown as { steps: { state: AnyMachineSnapshot; event: SampleEvent }[]; state: AnyMachineSnapshot }[];

  // Each shortest path, then from the state it reaches every event possible there once more
  // (the model's prediction from XState's pure transition function).
  const runs: { description: string; steps: { event: SampleEvent; expected: unknown }[] }[] = [];
  for (const path of paths.slice(0, options.maxPaths ?? 300)) {
    const steps = path.steps.filter((s) => s.event.type !== 'xstate.init').map((s) => ({ event: s.event, expected: s.state.value }));
    runs.push({ description: steps.map((s) => s.event.type).join(' → ') || '(start)', steps });
    for (const extra of eventsIn(machine, options, path.state)) {
      const [next] = pureTransition(model, path.state as never, extra as never);
      runs.push({ description: [...steps.map((s) => s.event.type), extra.type].join(' → '), steps: [...steps, { event: extra, expected: next.value }] });
    }
  }

  for (const run of runs) {
    const drivers = new Drivers();
    const real = (options.drivers?.length ? machine.provide({ actors: Object.fromEntries(options.drivers.map((d) => [d, drivers.fake(d)])) }) : machine) as AnyStateMachine;
    const keys = transitionKeys(real);
    const host = createMachine({
      id: 'host',
      invoke: [
        ...(options.recorders ?? ['focus']).map((systemId) => ({ id: `recorder:${systemId}`, systemId, src: drivers.fake(systemId) })),
        { id: 'subject', systemId: options.systemId ?? name, src: real, ...(options.input !== undefined ? { input: options.input } : {}) },
      ],
      on: { '*': { actions: ({ event }: { event: AnyEventObject }) => toParent.push(event as SampleEvent) } },
    });
    const toParent: SampleEvent[] = [];
    const emitted: SampleEvent[] = [];
    const clock = new ModelClock();
    const fail = (message: string): never => {
      throw new Error(`${name}: ${run.description}: ${message}`);
    };
    const actor = createActor(host, {
      clock,
      inspect: (ev) => {
        if ((ev.actorRef as AnyActorRef).id !== 'subject' || (ev.type !== '@xstate.microstep' && ev.type !== '@xstate.snapshot')) return;
        for (const id of activeStateIds(machine.id, (ev.snapshot as AnyMachineSnapshot).value)) coveredStates.add(id);
        if (ev.type === '@xstate.microstep') for (const t of (ev as unknown as { _transitions: AnyTransitionDefinition[] })._transitions) {
          const key = keys.get(t);
          if (key) coveredTransitions.add(key);
          // Its source was active (a transient state is only ever seen as one).
          for (let node: AnyStateNode | undefined = t.source; node; node = node.parent) coveredStates.add(node.id);
        }
      },
    });
    clock.system = (actor.system as unknown as ModelClock['system']);
    actor.start();
    const ref = (actor.getSnapshot().children.subject as AnyActorRef | undefined) ?? fail('the machine did not start');
    ref.on('*', (e: AnyEventObject) => emitted.push(e as SampleEvent));
    let before = ref.getSnapshot() as AnyMachineSnapshot;
    const stepFor = (event: SampleEvent, index: number, from: number, parentFrom: number): Step => ({
      event,
      index,
      before,
      after: ref.getSnapshot() as AnyMachineSnapshot,
      emitted: emitted.slice(from),
      avs: emitted.slice(from).filter(isAvs),
      toParent: toParent.slice(parentFrom).filter((e) => !e.type.startsWith('xstate.')),
      drivers,
      allEmitted: emitted,
      clock,
    });
    const verify = (step: Step) => {
      if (step.after.status === 'error') fail(`the machine failed: ${String((step.after as { error?: unknown }).error)}`);
      const crashed = toParent.find((e) => e.type.startsWith('xstate.error.actor.subject'));
      if (crashed) fail(`the machine failed: ${String((crashed as { error?: unknown }).error)}`);
      // Every AVS event it sent (and reported through its parent) is a valid message (§2.1).
      for (const e of [...step.avs, ...step.toParent.flatMap((p) => (p.event && isAvs(p.event as SampleEvent) ? [p.event as OutboundEvent] : []))]) {
        try {
          buildOutboundEvent(e, eventNeedsContext(e.namespace, e.name) ? { context: CONTEXT } : {});
        } catch (error) {
          fail(`${e.namespace}.${e.name}: ${(error as Error).message}`);
        }
      }
      try {
        options.check?.(step);
      } catch (error) {
        fail(`after ${step.event.type} in ${JSON.stringify(step.after.value)}: ${(error as Error).message}`);
      }
    };
    verify(stepFor({ type: 'xstate.init' }, 0, 0, 0));
    run.steps.forEach(({ event, expected }, i) => {
      drivers.step = i + 1;
      const from = emitted.length;
      const parentFrom = toParent.length;
      // A delay is the clock moved on; anything else is sent — an actor's result too (the fake
      // never finishes by itself, so its done/error event is handed over as XState delivers it).
      if (event.type.startsWith('xstate.after.')) clock.fire(event.type);
      else ref.send(event);
      const step = stepFor(event, i + 1, from, parentFrom);
      // Where the model says it is.
      if (JSON.stringify(step.after.value) !== JSON.stringify(expected)) fail(`step ${i + 1} (${event.type}): the model is in ${JSON.stringify(expected)}, the machine in ${JSON.stringify(step.after.value)}`);
      verify(step);
      before = step.after;
    });
    actor.stop();
  }
  return runs.length;
}

function report(
  name: string,
  options: ModelOptions,
  allStates: string[],
  allTransitions: string[],
  coveredStates: Set<string>,
  coveredTransitions: Set<string>,
  runCount: number,
): Figure {
  const unreachable = options.unreachable ?? {};
  for (const key of Object.keys(unreachable)) if (!allTransitions.includes(key) && !allStates.includes(key)) throw new Error(`${name}: "${key}" listed as unreachable is not in the chart`);
  const figure: Figure = {
    states: [allStates.filter((s) => coveredStates.has(s)).length, allStates.length],
    transitions: [allTransitions.filter((t) => coveredTransitions.has(t)).length, allTransitions.length],
    runs: runCount,
    uncoveredStates: allStates.filter((s) => !coveredStates.has(s)),
    uncoveredTransitions: allTransitions.filter((t) => !coveredTransitions.has(t)),
  };
  for (const key of Object.keys(unreachable)) if (coveredStates.has(key) || coveredTransitions.has(key)) throw new Error(`${name}: "${key}" is listed as unreachable but a run reached it`);
  mkdirSync(COVERAGE_DIR, { recursive: true });
  writeFileSync(join(COVERAGE_DIR, `${name}.json`), JSON.stringify({ ...figure, unreachable }, null, 2));
  return figure;
}

/** Everything covered except what is listed as unreachable (with the reason, in the test). */
export function expectComplete(figure: Figure, unreachable: Readonly<Record<string, string>> = {}): void {
  const missing = [...figure.uncoveredStates, ...figure.uncoveredTransitions].filter((k) => !(k in unreachable));
  if (missing.length > 0) throw new Error(`not covered:\n  ${missing.join('\n  ')}`);
}

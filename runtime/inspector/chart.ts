// Statecharts of the device's machines, drawn from the machine definitions themselves (the
// `machine.root` StateNode tree), so a chart can never disagree with the code: a neutral JSON
// graph, Graphviz DOT, Mermaid stateDiagram-v2, and SVG through @viz-js/viz (Graphviz compiled to
// WebAssembly, shipped inside the npm package: offline, no program to install).
//
// State ids are paths, `<machine id>.<key>.<key>` (`speechRecognizer.RECOGNIZING.STREAMING`),
// never a custom `id:` of a state node: the inspector computes the same ids by walking a
// snapshot's value, and in the SVG each state carries `id="state:<state id>"` so the page can
// highlight it.
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { alertMachine } from '../../machines/alerts/alert';
import { alertsMachine } from '../../machines/alerts/machine';
import { attentionMachine } from '../../machines/attention/machine';
import { audioPlayerMachine } from '../../machines/audio-player/machine';
import { authorizationMachine } from '../../machines/authorization/machine';
import { connectionMachine } from '../../machines/connection/machine';
import { focusMachine } from '../../machines/focus/machine';
import { playbackControllerMachine } from '../../machines/playback-controller/machine';
import { settingsMachine } from '../../machines/settings/machine';
import { speakerMachine } from '../../machines/speaker/machine';
import { speechRecognizerMachine } from '../../machines/speech-recognizer/machine';
import { speechSynthesizerMachine } from '../../machines/speech-synthesizer/machine';
import { systemMachine } from '../../machines/system/machine';

/**
 * Every machine of the device, by the name it is charted under (its definition id, which is also
 * what the inspector reads off a running actor). The actors the runtime provides (microphone,
 * HTTP/2 session…) change no state or transition, so the definitions as exported are the charts.
 */
export const DEVICE_MACHINES: Readonly<Record<string, AnyStateMachine>> = {
  focus: focusMachine,
  attention: attentionMachine,
  system: systemMachine,
  speaker: speakerMachine,
  settings: settingsMachine,
  speechRecognizer: speechRecognizerMachine,
  speechSynthesizer: speechSynthesizerMachine,
  audioPlayer: audioPlayerMachine,
  playbackController: playbackControllerMachine,
  alerts: alertsMachine,
  alert: alertMachine,
  connection: connectionMachine,
  authorization: authorizationMachine,
};

export type ChartStateType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

export interface ChartState {
  /** The path id: `<machine id>.<key>…`; the root's is the machine id. */
  readonly id: string;
  readonly key: string;
  readonly type: ChartStateType;
  /** Null for the root. */
  readonly parent: string | null;
  /** The initial child of a compound state. */
  readonly initial?: string;
  /** Shallow or deep, for a history state. */
  readonly history?: 'shallow' | 'deep';
}

/** What makes a transition happen. */
export type ChartTransitionKind = 'event' | 'after' | 'always' | 'done' | 'error';

export interface ChartTransition {
  readonly source: string;
  /** Empty: a transition with actions only, the state stays (drawn as a dotted loop). */
  readonly targets: readonly string[];
  /** The event type as XState names it (`xstate.after.<delay>.<state node id>` for a delay; '' for `always`). */
  readonly event: string;
  readonly kind: ChartTransitionKind;
  /** What a chart prints: `USER.TAP [mayInterrupt]`, `after EXPECT_SPEECH_TIMEOUT`, `done(refresh)`, `always [hasQueued]`. */
  readonly label: string;
  readonly guard?: string;
  /** The delay's name, or its length in ms. */
  readonly delay?: string | number;
  /** Exits and re-enters its target even when it is the source or an ancestor of it. */
  readonly reenter?: boolean;
}

export interface Chart {
  /** The machine id. */
  readonly id: string;
  /** Document order, parents before their children. */
  readonly states: readonly ChartState[];
  /** Per state in document order, in the order XState tries them. */
  readonly transitions: readonly ChartTransition[];
}

/** The path id of a state node (see the top of this file). */
export const stateId = (node: AnyStateNode): string => [node.machine.id, ...node.path].join('.');

/** `focusIs(Dialog, FOREGROUND)`; the combinators `not`/`and`/`or` by their name and parts. */
function guardLabel(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const parts = (guard as { guards?: unknown }).guards;
    const name = guard.name || 'guard';
    return Array.isArray(parts) ? `${name}(${parts.map((p) => guardLabel(p) ?? '?').join(', ')})` : name;
  }
  if (typeof guard === 'object' && 'type' in guard) {
    const { type, params } = guard as { type: unknown; params?: unknown };
    const name = guardLabel(type) ?? '?';
    if (params && typeof params === 'object' && !Array.isArray(params)) {
      const values = Object.values(params);
      if (values.length > 0 && values.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) return `${name}(${values.join(', ')})`;
    }
    return name;
  }
  return undefined;
}

/** The invoked actors' names by invoke id, so `xstate.done.actor.0.connection.AUTHORIZING` reads `done(authorize)`. */
function invokeNames(root: AnyStateNode): Map<string, string> {
  const names = new Map<string, string>();
  const walk = (node: AnyStateNode) => {
    for (const inv of node.invoke) names.set(inv.id, typeof inv.src === 'string' ? inv.src : inv.id);
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(root);
  return names;
}

function describe(
  node: AnyStateNode,
  eventType: string,
  delays: Map<string, string | number>,
  invokes: Map<string, string>,
): { kind: ChartTransitionKind; text: string; delay?: string | number } {
  if (eventType === '') return { kind: 'always', text: 'always' };
  const delay = delays.get(eventType);
  if (delay !== undefined) return { kind: 'after', text: typeof delay === 'number' ? `after ${delay}ms` : `after ${delay}`, delay };
  const done = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
  if (done) return { kind: done[1] === 'done' ? 'done' : 'error', text: `${done[1]}(${invokes.get(done[2] ?? '') ?? done[2]})` };
  const doneState = /^xstate\.done\.state\.(.+)$/.exec(eventType);
  if (doneState) return { kind: 'done', text: `done(${doneState[1] === node.id ? node.key : doneState[1]})` };
  return { kind: 'event', text: eventType };
}

/** The neutral graph of a machine: its states and transitions. */
export function chartJson(machine: AnyStateMachine): Chart {
  const states: ChartState[] = [];
  const transitions: ChartTransition[] = [];
  const invokes = invokeNames(machine.root);
  const walk = (node: AnyStateNode) => {
    const initial = node.type === 'compound' ? node.initial?.target[0] : undefined;
    states.push({
      id: stateId(node),
      key: node.parent ? node.key : machine.id,
      type: node.type,
      parent: node.parent ? stateId(node.parent) : null,
      ...(initial ? { initial: stateId(initial) } : {}),
      ...(node.type === 'history' && node.history ? { history: node.history } : {}),
    });
    const delays = new Map<string, string | number>();
    for (const t of node.after) if (typeof t.delay === 'string' || typeof t.delay === 'number') delays.set(t.eventType, t.delay);
    const add = (t: AnyTransitionDefinition, eventType: string) => {
      const guard = guardLabel(t.guard);
      const { kind, text, delay } = describe(node, eventType, delays, invokes);
      transitions.push({
        source: stateId(node),
        targets: (t.target ?? []).map(stateId),
        event: eventType,
        kind,
        label: guard ? `${text} [${guard}]` : text,
        ...(guard ? { guard } : {}),
        ...(delay !== undefined ? { delay } : {}),
        ...(t.reenter ? { reenter: true } : {}),
      });
    };
    for (const [eventType, list] of node.transitions) for (const t of list) add(t, eventType);
    for (const t of node.always ?? []) add(t, '');
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(machine.root);
  return { id: machine.id, states, transitions };
}

// ---- Graphviz DOT ----

const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
/** A compound or parallel state is a cluster; edges meet it at an invisible point inside it. */
const isCluster = (s: ChartState) => s.type === 'compound' || s.type === 'parallel';
const anchor = (id: string) => `${id}::anchor`;
const initialMark = (id: string) => `${id}::initial`;

/**
 * Graphviz DOT: compound states as clusters (regions of a parallel state dashed), an initial dot
 * in each compound state, event labels on edges. Every state's node or cluster has
 * `id="state:<state id>"`, which Graphviz keeps in the SVG.
 */
export function chartDot(machine: AnyStateMachine, options: { rankdir?: 'TB' | 'LR' } = {}): string {
  const chart = chartJson(machine);
  const byId = new Map(chart.states.map((s) => [s.id, s]));
  const children = new Map<string | null, ChartState[]>();
  for (const s of chart.states) children.set(s.parent, [...(children.get(s.parent) ?? []), s]);
  const lines: string[] = [
    `digraph ${q(chart.id)} {`,
    `  graph [compound=true, rankdir=${options.rankdir ?? 'TB'}, fontname="Helvetica", fontsize=12, nodesep=0.25, ranksep=0.45, pad=0.1];`,
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#455a64", fontname="Helvetica", fontsize=11, height=0.3];',
    '  edge [fontname="Helvetica", fontsize=9, color="#607d8b", fontcolor="#37474f", arrowsize=0.6];',
  ];
  const state = (s: ChartState, depth: number) => {
    const pad = '  '.repeat(depth);
    if (isCluster(s)) {
      const parent = s.parent ? byId.get(s.parent) : undefined;
      const style = parent?.type === 'parallel' ? 'rounded,dashed' : 'rounded';
      lines.push(`${pad}subgraph ${q(`cluster_${s.id}`)} {`);
      lines.push(`${pad}  id=${q(`state:${s.id}`)}; label=${q(s.type === 'parallel' ? `${s.key} ∥` : s.key)}; style=${q(style)}; color="#78909c"; labeljust=l;`);
      lines.push(`${pad}  ${q(anchor(s.id))} [shape=point, style=invis, width=0.01, height=0.01, label=""];`);
      if (s.initial) lines.push(`${pad}  ${q(initialMark(s.id))} [shape=circle, style=filled, fillcolor="#263238", color="#263238", width=0.1, height=0.1, fixedsize=true, label=""];`);
      for (const c of children.get(s.id) ?? []) state(c, depth + 1);
      lines.push(`${pad}}`);
      return;
    }
    const attrs = [`id=${q(`state:${s.id}`)}`, `label=${q(s.type === 'history' ? (s.history === 'deep' ? 'H*' : 'H') : s.key)}`];
    if (s.type === 'final') attrs.push('peripheries=2');
    if (s.type === 'history') attrs.push('shape=circle', 'width=0.3', 'fixedsize=true');
    lines.push(`${pad}${q(s.id)} [${attrs.join(', ')}];`);
  };
  for (const root of children.get(null) ?? []) state(root, 1);
  // An edge to or from a cluster runs to its anchor, clipped at the cluster's border.
  const end = (id: string, side: 'ltail' | 'lhead') => {
    const s = byId.get(id);
    return s && isCluster(s) ? { node: anchor(id), attr: `${side}=${q(`cluster_${id}`)}` } : { node: id, attr: undefined };
  };
  const edge = (from: string, to: string, attrs: string[]) => {
    const a = end(from, 'ltail');
    const b = end(to, 'lhead');
    // Graphviz cannot clip at a cluster that holds the other end; drawn to the anchor instead.
    const inside = (outer: string, inner: string) => inner.startsWith(`${outer}.`);
    const all = [...attrs];
    if (a.attr && from !== to && !inside(from, to)) all.push(a.attr);
    if (b.attr && from !== to && !inside(to, from)) all.push(b.attr);
    lines.push(`  ${q(a.node)} -> ${q(b.node)} [${all.join(', ')}];`);
  };
  for (const s of chart.states) if (s.initial) edge(initialMark(s.id), s.initial, ['arrowsize=0.5']);
  // Transitions between the same two states, drawn alike, share one edge with one label per line:
  // a chart with an arrow per event is unreadable (IDLE → RECOGNIZING alone has three).
  const merged = new Map<string, { from: string; to: string; style: string[]; labels: string[] }>();
  for (const t of chart.transitions) {
    const style = t.targets.length === 0 ? ['style=dotted'] : t.kind === 'always' ? ['style=dashed'] : t.kind === 'after' ? ['color="#8d6e63"'] : [];
    for (const to of t.targets.length > 0 ? t.targets : [t.source]) {
      const key = JSON.stringify([t.source, to, style]);
      const m = merged.get(key) ?? { from: t.source, to, style, labels: [] };
      m.labels.push(t.label);
      merged.set(key, m);
    }
  }
  for (const m of merged.values()) edge(m.from, m.to, [`label=${q(m.labels.join('\n'))}`, ...m.style]);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

// ---- Mermaid ----

/**
 * Mermaid stateDiagram-v2. Mermaid ids cannot hold dots, so each state gets one made of its path;
 * its label is its key (declared before first use: Mermaid shows the id otherwise). The root is a
 * composite state too, since a parallel root's `--` separators are legal only inside one. Each
 * transition is written in the innermost composite holding both ends (Mermaid draws an edge out
 * of a composite poorly when it is written elsewhere).
 */
export function chartMermaid(machine: AnyStateMachine): string {
  const chart = chartJson(machine);
  const byId = new Map(chart.states.map((s) => [s.id, s]));
  const children = new Map<string | null, ChartState[]>();
  for (const s of chart.states) children.set(s.parent, [...(children.get(s.parent) ?? []), s]);
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  for (const s of chart.states) {
    const base = s.id.replace(/[^A-Za-z0-9_]/g, '_');
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
    taken.add(id);
    ids.set(s.id, id);
  }
  const mid = (id: string) => ids.get(id) ?? id;
  const text = (s: string) => s.replace(/[;\r\n"]/g, ' ');
  const ancestors = (id: string): string[] => {
    const out: string[] = [];
    for (let s = byId.get(id); s; s = s.parent ? byId.get(s.parent) : undefined) out.unshift(s.id);
    return out;
  };
  /** Where a transition is written: the composite holding both ends, never a parallel state (its body is regions). */
  const blockOf = (t: ChartTransition): string | null => {
    const ends = [t.source, ...t.targets];
    const paths = ends.map(ancestors);
    let common: string | null = null;
    for (let i = 0; paths.every((p) => p[i] !== undefined && p[i] === paths[0]?.[i]); i++) common = paths[0]?.[i] ?? null;
    let block = common;
    const at = block ? byId.get(block) : undefined;
    if (at && (ends.includes(at.id) || at.type === 'parallel')) block = at.parent;
    while (block && byId.get(block)?.type === 'parallel') block = byId.get(block)?.parent ?? null;
    return block;
  };
  const arrows = new Map<string | null, string[]>();
  for (const t of chart.transitions) {
    const block = blockOf(t);
    const label = ` : ${text(t.label)}`;
    const list = arrows.get(block) ?? [];
    for (const target of t.targets.length > 0 ? t.targets : [t.source]) list.push(`${mid(t.source)} --> ${mid(target)}${label}`);
    arrows.set(block, list);
  }
  const lines: string[] = ['stateDiagram-v2'];
  const state = (s: ChartState, depth: number) => {
    const pad = '  '.repeat(depth);
    const label = s.type === 'history' ? (s.history === 'deep' ? 'H*' : 'H') : s.key;
    const kids = children.get(s.id) ?? [];
    if (!isCluster(s) || kids.length === 0) {
      lines.push(`${pad}state "${text(label)}" as ${mid(s.id)}`);
      return;
    }
    lines.push(`${pad}state "${text(label)}" as ${mid(s.id)} {`);
    kids.forEach((c, i) => {
      if (s.type === 'parallel' && i > 0) lines.push(`${pad}  --`);
      state(c, depth + 1);
    });
    if (s.type === 'compound') {
      if (s.initial) lines.push(`${pad}  [*] --> ${mid(s.initial)}`);
      for (const c of kids) if (c.type === 'final') lines.push(`${pad}  ${mid(c.id)} --> [*]`);
      for (const a of arrows.get(s.id) ?? []) lines.push(`${pad}  ${a}`);
    }
    lines.push(`${pad}}`);
  };
  for (const root of children.get(null) ?? []) state(root, 1);
  for (const a of arrows.get(null) ?? []) lines.push(`  ${a}`);
  return `${lines.join('\n')}\n`;
}

// ---- SVG ----

type Viz = Awaited<ReturnType<typeof import('@viz-js/viz').instance>>;
let viz: Promise<Viz> | undefined;

/** One Graphviz instance for the process: compiling the WebAssembly module is the slow part. */
function graphviz(): Promise<Viz> {
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  return viz;
}

/**
 * The chart as an SVG document (Graphviz `dot` layout), states addressable by `id="state:<state
 * id>"`. Laid out top to bottom and left to right, it keeps the one drawn larger in a 4:3 panel:
 * a long chain of states reads better across, a machine of many labelled edges down.
 */
export async function chartSvg(machine: AnyStateMachine): Promise<string> {
  const instance = await graphviz();
  const layouts = (['TB', 'LR'] as const).map((rankdir) => instance.renderString(chartDot(machine, { rankdir }), { format: 'svg', engine: 'dot' }));
  const scale = (svg: string) => {
    const size = /<svg width="([\d.]+)pt" height="([\d.]+)pt"/.exec(svg);
    return size ? Math.min(4 / Number(size[1]), 3 / Number(size[2])) : 0;
  };
  return layouts.reduce((best, svg) => (scale(svg) > scale(best) ? svg : best));
}

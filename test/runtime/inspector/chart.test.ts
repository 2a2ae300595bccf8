// Charts drawn from the machine definitions: nothing of a machine may go missing on the way to
// JSON, DOT, Mermaid or SVG.
import { and, createMachine, not, type AnyStateMachine, type AnyStateNode } from 'xstate';
import { chartDot, chartJson, chartMermaid, chartSvg, DEVICE_MACHINES, stateId, type Chart } from '../../../runtime/inspector/chart';

/** States and transitions read off the StateNode tree directly, independently of chart.ts. */
function truth(machine: AnyStateMachine): { states: string[]; transitions: { source: string; event: string; targets: string[] }[] } {
  const states: string[] = [];
  const transitions: { source: string; event: string; targets: string[] }[] = [];
  const walk = (node: AnyStateNode, path: string[]) => {
    const id = [machine.id, ...path].join('.');
    states.push(id);
    for (const [event, list] of node.transitions)
      for (const t of list) transitions.push({ source: id, event, targets: (t.target ?? []).map((n: AnyStateNode) => [machine.id, ...n.path].join('.')) });
    for (const t of node.always ?? []) transitions.push({ source: id, event: '', targets: (t.target ?? []).map((n: AnyStateNode) => [machine.id, ...n.path].join('.')) });
    for (const [key, child] of Object.entries(node.states)) walk(child, [...path, key]);
  };
  walk(machine.root, []);
  return { states, transitions };
}

/** A structural reading of Mermaid stateDiagram-v2: declarations, blocks, arrows. */
function readMermaid(text: string): { declared: Map<string, string>; arrows: { from: string; to: string; label: string | undefined }[]; depthOk: boolean } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const declared = new Map<string, string>();
  const arrows: { from: string; to: string; label: string | undefined }[] = [];
  let depth = 0;
  let depthOk = lines[0] === 'stateDiagram-v2';
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^state "([^"]*)" as ([A-Za-z0-9_]+)( \{)?$/.exec(line))) {
      if (declared.has(m[2] ?? '')) depthOk = false;
      declared.set(m[2] ?? '', m[1] ?? '');
      if (m[3]) depth++;
    } else if (line === '}') {
      depth--;
      if (depth < 0) depthOk = false;
    } else if (line === '--') {
      if (depth === 0) depthOk = false;
    } else if ((m = /^(\[\*\]|[A-Za-z0-9_]+) --> (\[\*\]|[A-Za-z0-9_]+)(?: : (.+))?$/.exec(line))) {
      arrows.push({ from: m[1] ?? '', to: m[2] ?? '', label: m[3] });
    } else {
      throw new Error(`not a Mermaid state diagram line: ${JSON.stringify(raw)}`);
    }
  }
  return { declared, arrows, depthOk: depthOk && depth === 0 };
}

const dotString = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

describe('charts of every machine of the device', () => {
  it('charts the thirteen machines, under their definition ids', () => {
    expect(Object.keys(DEVICE_MACHINES).sort()).toEqual(
      ['alert', 'alerts', 'attention', 'audioPlayer', 'authorization', 'connection', 'focus', 'playbackController', 'settings', 'speaker', 'speechRecognizer', 'speechSynthesizer', 'system'].sort(),
    );
    for (const [name, machine] of Object.entries(DEVICE_MACHINES)) expect(machine.id).toBe(name);
  });

  describe.each(Object.entries(DEVICE_MACHINES))('%s', (name, machine) => {
    const expected = truth(machine);
    let chart: Chart;
    beforeAll(() => {
      chart = chartJson(machine);
    });

    it('JSON: every state (path ids, parents, initial) and every transition', () => {
      expect(chart.id).toBe(name);
      expect(chart.states.map((s) => s.id)).toEqual(expected.states);
      for (const s of chart.states) {
        if (s.parent === null) expect(s.id).toBe(name);
        else expect(s.id).toBe(`${s.parent}.${s.key}`);
        if (s.type === 'compound') expect(chart.states.find((c) => c.id === s.initial)?.parent).toBe(s.id);
      }
      expect(chart.transitions.map((t) => ({ source: t.source, event: t.event, targets: [...t.targets] }))).toEqual(expected.transitions);
      for (const t of chart.transitions) expect(t.label.length).toBeGreaterThan(0);
      // The JSON file is the chart as it is.
      expect(JSON.parse(JSON.stringify(chart))).toEqual(chart);
    });

    it('DOT: a node or cluster with id "state:<id>" per state, every transition labelled', () => {
      const dot = chartDot(machine);
      expect(dot.startsWith(`digraph "${name}" {`)).toBe(true);
      for (const id of expected.states) expect(dot).toContain(`id="state:${id}"`);
      for (const t of chart.transitions) expect(dot).toContain(dotString(t.label));
      for (const s of chart.states.filter((c) => c.type === 'compound' || c.type === 'parallel')) expect(dot).toContain(`subgraph "cluster_${s.id}"`);
    });

    it('Mermaid: stateDiagram-v2 with every state declared once and every transition drawn between declared states', () => {
      const text = chartMermaid(machine);
      const read = readMermaid(text);
      expect(read.depthOk).toBe(true);
      expect(read.declared.size).toBe(expected.states.length);
      expect([...read.declared.values()].sort()).toEqual(chart.states.map((s) => (s.parent === null ? name : s.key)).sort());
      for (const a of read.arrows) {
        if (a.from !== '[*]') expect(read.declared.has(a.from)).toBe(true);
        if (a.to !== '[*]') expect(read.declared.has(a.to)).toBe(true);
      }
      const labelled = read.arrows.filter((a) => a.label !== undefined);
      expect(labelled).toHaveLength(chart.transitions.reduce((n, t) => n + Math.max(1, t.targets.length), 0));
      const initials = chart.states.filter((s) => s.initial).length;
      expect(read.arrows.filter((a) => a.from === '[*]')).toHaveLength(initials);
    });

    it('SVG: rendered offline, each state addressable by its id', async () => {
      const svg = await chartSvg(machine);
      expect(svg).toMatch(/<svg[\s>]/);
      for (const id of expected.states) expect(svg).toContain(`id="state:${id}"`);
      expect(svg).toMatch(/<\/svg>\s*$/);
    });
  });
});

describe('chart details', () => {
  const machine = createMachine({
    id: 'demo',
    initial: 'a',
    states: {
      a: {
        after: { 1500: 'b', LATER: 'c' },
        on: { GO: [{ guard: and(['ready', not('busy')]), target: 'b' }, { guard: { type: 'named', params: { mode: 'fast', n: 2 } }, target: 'c' }] },
      },
      b: { invoke: { src: 'fetcher', onDone: 'c', onError: 'a' } },
      c: {
        type: 'parallel',
        states: {
          left: { initial: 'x', states: { x: { on: { NEXT: 'y' } }, y: { type: 'final' }, hist: { type: 'history', history: 'deep' } } },
          right: { initial: 'p', states: { p: { always: { target: 'q', guard: 'flag' } }, q: {} } },
        },
        onDone: 'done',
      },
      done: { type: 'final' },
    },
    on: { RESET: { target: '.a', reenter: true }, PING: { actions: 'pong' } },
  });
  const chart = chartJson(machine);
  const labels = chart.transitions.map((t) => `${t.source} ${t.label} -> ${t.targets.join(',') || '(stays)'}`);

  it('names delays, invoked actors, done states, guards with their parameters, and actions-only transitions', () => {
    expect(labels).toEqual(
      expect.arrayContaining([
        'demo RESET -> demo.a',
        'demo PING -> (stays)',
        'demo.a GO [and(ready, not(busy))] -> demo.b',
        'demo.a GO [named(fast, 2)] -> demo.c',
        'demo.a after 1500ms -> demo.b',
        'demo.a after LATER -> demo.c',
        'demo.b done(fetcher) -> demo.c',
        'demo.b error(fetcher) -> demo.a',
        'demo.c done(c) -> demo.done',
        'demo.c.left.x NEXT -> demo.c.left.y',
        'demo.c.right.p always [flag] -> demo.c.right.q',
      ]),
    );
    expect(chart.transitions.find((t) => t.label === 'after 1500ms')).toMatchObject({ kind: 'after', delay: 1500 });
    expect(chart.transitions.find((t) => t.event === '')).toMatchObject({ kind: 'always' });
    expect(chart.transitions.find((t) => t.label === 'RESET')).toMatchObject({ reenter: true });
  });

  it('keeps state types: parallel, final, deep history', () => {
    const type = (id: string) => chart.states.find((s) => s.id === id);
    expect(type('demo.c')).toMatchObject({ type: 'parallel', parent: 'demo' });
    expect(type('demo.c.left')).toMatchObject({ type: 'compound', initial: 'demo.c.left.x' });
    expect(type('demo.c.left.hist')).toMatchObject({ type: 'history', history: 'deep' });
    expect(type('demo.done')).toMatchObject({ type: 'final' });
  });

  it('draws parallel regions dashed, final states doubled, history as H*', () => {
    const dot = chartDot(machine);
    expect(dot).toMatch(/subgraph "cluster_demo\.c\.left" \{\n\s*id="state:demo\.c\.left"; label="left"; style="rounded,dashed"/);
    expect(dot).toMatch(/"demo\.done" \[id="state:demo\.done", label="done", peripheries=2\]/);
    expect(dot).toContain('label="H*"');
  });

  it('separates parallel regions with -- inside the composite, and ends final states in [*]', () => {
    const text = chartMermaid(machine);
    expect(text).toMatch(/state "c" as demo_c \{\n\s*state "left" as demo_c_left \{[\s\S]*\n\s*--\n\s*state "right" as demo_c_right \{/);
    expect(text).toContain('demo_c_left_y --> [*]');
    expect(text).toContain('demo_c_left_x --> demo_c_left_y : NEXT');
    expect(readMermaid(text).depthOk).toBe(true);
  });

  it('uses path ids, whatever id a state node was given', () => {
    const custom = createMachine({ id: 'm', initial: 'a', states: { a: { id: 'custom', on: { GO: 'b' } }, b: { on: { BACK: '#custom' } } } });
    const c = chartJson(custom);
    expect(c.states.map((s) => s.id)).toEqual(['m', 'm.a', 'm.b']);
    expect(c.transitions.find((t) => t.event === 'BACK')?.targets).toEqual(['m.a']);
    expect(stateId(custom.root.states.a as AnyStateNode)).toBe('m.a');
  });
});

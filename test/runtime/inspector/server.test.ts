// The inspector's server over real HTTP on 127.0.0.1, fed by a real actor's inspection events.
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createActor, createMachine, type AnyActorRef } from 'xstate';
import { activeStateIds, safeJson, startInspector, type ActorView, type Inspector, type TimelineEntry } from '../../../runtime/inspector/server';
import { openSse, type SseClient } from './sse';

const toggle = createMachine({
  id: 'toggle',
  initial: 'off',
  states: {
    off: { on: { FLIP: 'on' } },
    on: { initial: 'dim', states: { dim: { on: { BRIGHTER: 'bright' } }, bright: {} }, on: { FLIP: 'off' } },
  },
});

function fetchText(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const actorOf = (m: { data: string }) => JSON.parse(m.data) as ActorView;
const entryOf = (m: { data: string }) => JSON.parse(m.data) as TimelineEntry;

let inspector: Inspector;
const clients: SseClient[] = [];
const actors: AnyActorRef[] = [];

beforeEach(async () => {
  inspector = await startInspector({ machines: { x: toggle } });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const a of actors.splice(0)) a.stop();
  await inspector.stop();
});

async function sse(): Promise<SseClient> {
  const c = await openSse(`${inspector.url}events`);
  clients.push(c);
  return c;
}

function start(systemId = 'toggler') {
  const actor = createActor(toggle, { systemId, inspect: inspector.inspect });
  actors.push(actor);
  actor.start();
  return actor;
}

describe('the inspector server', () => {
  it('listens on 127.0.0.1 only', async () => {
    expect(inspector.url).toBe(`http://127.0.0.1:${inspector.port}/`);
    expect(await accepts('127.0.0.1', inspector.port)).toBe(true);
    // Bound to 0.0.0.0 it would take these too.
    expect(await accepts('127.0.0.2', inspector.port)).toBe(false);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) expect(await accepts(external.address, inspector.port)).toBe(false);
  });

  it('answers only requests addressed to 127.0.0.1 or localhost', async () => {
    expect((await fetchText(inspector.url, { host: 'attacker.example' })).status).toBe(403);
    expect((await fetchText(inspector.url, { host: `localhost:${inspector.port}` })).status).toBe(200);
  });

  it('serves the page with everything inline, and each chart as SVG with its states addressable', async () => {
    const page = await fetchText(inspector.url);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toContain('const MACHINES = ["x"]');
    expect(page.body).toContain("new EventSource('/events')");
    // Nothing from elsewhere: no external script, style or font.
    expect(page.body).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    const svg = await fetchText(`${inspector.url}charts/x.svg`);
    expect(svg.status).toBe(200);
    expect(svg.type).toMatch(/^image\/svg\+xml/);
    for (const id of ['toggle', 'toggle.off', 'toggle.on', 'toggle.on.dim', 'toggle.on.bright']) expect(svg.body).toContain(`id="state:${id}"`);
    expect((await fetchText(`${inspector.url}charts/nope.svg`)).status).toBe(404);
    expect((await fetchText(`${inspector.url}nope`)).status).toBe(404);
  });

  it('streams an actor\'s active states as they change, with a timeline entry per change', async () => {
    const events = await sse();
    const actor = start();
    const first = actorOf(await events.waitFor((m) => m.event === 'actor'));
    expect(first).toEqual({
      key: 'toggler',
      machine: 'x',
      machineId: 'toggle',
      active: ['toggle', 'toggle.off'],
      leaves: ['toggle.off'],
      status: 'active',
      spawned: false,
    });
    actor.send({ type: 'FLIP' });
    const flipped = actorOf(await events.waitFor((m) => m.event === 'actor' && actorOf(m).active.includes('toggle.on')));
    expect(flipped.active).toEqual(['toggle', 'toggle.on', 'toggle.on.dim']);
    expect(flipped.leaves).toEqual(['toggle.on.dim']);
    const entry = entryOf(await events.waitFor((m) => m.event === 'timeline' && entryOf(m).name === 'toggler: on.dim'));
    expect(entry).toMatchObject({ kind: 'state', json: { actor: 'toggler', machine: 'toggle', value: { on: 'dim' }, event: 'FLIP' } });
    actor.stop();
    expect(actorOf(await events.waitFor((m) => m.event === 'actor' && actorOf(m).status === 'stopped')).key).toBe('toggler');
  });

  it('sends a page that connects later the current state of every known actor and the recent timeline', async () => {
    const a = start('first');
    start('second');
    a.send({ type: 'FLIP' });
    a.send({ type: 'BRIGHTER' });
    inspector.record({ kind: 'directive', name: 'Speaker.SetVolume', json: { directive: { payload: { volume: 30 } } } });
    const events = await sse();
    const first = actorOf(await events.waitFor((m) => m.event === 'actor' && actorOf(m).key === 'first'));
    expect(first.leaves).toEqual(['toggle.on.bright']);
    expect(actorOf(await events.waitFor((m) => m.event === 'actor' && actorOf(m).key === 'second')).leaves).toEqual(['toggle.off']);
    const directive = entryOf(await events.waitFor((m) => m.event === 'timeline' && entryOf(m).kind === 'directive'));
    expect(directive).toMatchObject({ name: 'Speaker.SetVolume', json: { directive: { payload: { volume: 30 } } } });
    // Only the latest state of each actor, not its history.
    expect(events.messages.filter((m) => m.event === 'actor' && actorOf(m).key === 'first')).toHaveLength(1);
  });

  it('streams recorded directives and events as they come, numbered in order', async () => {
    const events = await sse();
    inspector.record({ kind: 'event', name: 'Speaker.VolumeChanged', json: { event: { payload: { volume: 30, muted: false } } } });
    inspector.record({ kind: 'directive', name: 'SpeechSynthesizer.Speak', json: { audio: Buffer.alloc(3200), n: 10n } });
    const [a, b] = [entryOf(await events.waitFor((m) => m.event === 'timeline' && entryOf(m).kind === 'event')), entryOf(await events.waitFor((m) => m.event === 'timeline' && entryOf(m).kind === 'directive'))];
    expect(b.seq).toBe(a.seq + 1);
    expect(b.json).toEqual({ audio: '<3200 bytes>', n: '10' });
  });

  it('keeps the payload of the events that move a machine off the page (they can carry tokens)', async () => {
    const events = await sse();
    const actor = start();
    actor.send({ type: 'FLIP', token: 'Atza|secret-token' } as { type: 'FLIP' });
    await events.waitFor((m) => m.event === 'actor' && actorOf(m).active.includes('toggle.on'));
    await events.waitFor((m) => m.event === 'timeline' && entryOf(m).name === 'toggler: on.dim');
    expect(events.messages.map((m) => m.data).join('\n')).not.toContain('secret-token');
  });

  it('follows an actor outside the inspected system with watch()', async () => {
    const events = await sse();
    const outside = createActor(toggle).start();
    actors.push(outside);
    const unwatch = inspector.watch(outside, 'connection');
    outside.send({ type: 'FLIP' });
    expect(actorOf(await events.waitFor((m) => m.event === 'actor' && actorOf(m).key === 'connection' && actorOf(m).active.includes('toggle.on'))).machine).toBe('x');
    unwatch();
  });

  it('ends the streams and frees the port on stop', async () => {
    const events = await sse();
    await inspector.stop();
    await events.ended;
    expect(await accepts('127.0.0.1', inspector.port)).toBe(false);
  });
});

describe('active state ids', () => {
  it('walks nested and parallel values, root first', () => {
    expect(activeStateIds('m', 'a')).toEqual(['m', 'm.a']);
    expect(activeStateIds('m', { a: { b: 'c' } })).toEqual(['m', 'm.a', 'm.a.b', 'm.a.b.c']);
    expect(activeStateIds('focus', { Dialog: 'NONE', Alerts: 'FOREGROUND' })).toEqual(['focus', 'focus.Dialog', 'focus.Dialog.NONE', 'focus.Alerts', 'focus.Alerts.FOREGROUND']);
    expect(activeStateIds('device', {})).toEqual(['device']);
  });
});

describe('safeJson', () => {
  it('never throws: cycles cut, bigints as text, buffers by their size', () => {
    const cyclic: { self?: unknown; n: bigint } = { n: 1n };
    cyclic.self = cyclic;
    expect(JSON.parse(safeJson(cyclic))).toEqual({ n: '1', self: '<cycle>' });
    expect(JSON.parse(safeJson({ pcm: new Int16Array(8), buf: Buffer.from('abc'), f: () => 1 }))).toEqual({ pcm: '<16 bytes>', buf: '<3 bytes>' });
    expect(safeJson(undefined)).toBe('null');
  });
});

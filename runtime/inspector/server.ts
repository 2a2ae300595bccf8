// The inspector: a local web page that shows the device's statecharts with their active states
// highlighted live, and a timeline of directives, events and state changes.
//
// It takes XState's inspection events (`createActor(m, { inspect: inspector.inspect })`, or the
// device's `inspect` config, which reaches every actor of the device's system) and serves:
//   GET /                 the page (runtime/inspector/page.ts: HTML, CSS and script inline)
//   GET /charts/<n>.svg   each machine's chart, states addressable as `id="state:<state id>"`
//   GET /events           Server-Sent Events: `actor` (an actor's active states), `timeline`
// A new /events client first gets every known actor and the recent timeline.
//
// It listens on 127.0.0.1 only, and answers only requests addressed to 127.0.0.1 or localhost
// (a page elsewhere cannot reach it through DNS rebinding): the timeline holds the messages the
// device exchanges with AVS. It never sees tokens — an actor's context and the payloads of the
// events that move it are left out.
//
// Why not @statelyai/inspect: its transport is local, but its viewer is the hosted
// stately.ai/inspect page, so it does not work offline. The `inspect` observer XState takes is
// the same, so it can still be passed to the device instead of (or besides) this one.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnyStateMachine, InspectionEvent } from 'xstate';
import { chartSvg, DEVICE_MACHINES } from './chart';
import { inspectorPage } from './page';

export type TimelineKind = 'directive' | 'event' | 'state';

export interface TimelineEntry {
  /** 1, 2, 3… in the order recorded. */
  readonly seq: number;
  /** ms since the epoch. */
  readonly at: number;
  readonly kind: TimelineKind;
  readonly name: string;
  readonly json: unknown;
}

/** One machine actor as the page sees it. */
export interface ActorView {
  /** Its systemId, or else its id (`alert:<token>` for a spawned alert). */
  readonly key: string;
  /** The chart it is drawn on: the name its machine has in `machines`, else the machine id. */
  readonly machine: string;
  /** The machine definition's id (the root of its state ids). */
  readonly machineId: string;
  /** Every active state id, the root's included (`speechRecognizer`, `speechRecognizer.RECOGNIZING`, …). */
  readonly active: readonly string[];
  /** The active states without an active child. */
  readonly leaves: readonly string[];
  /** 'active', 'done', 'error' or 'stopped'. */
  readonly status: string;
  /** Spawned without a systemId (its panel goes when it ends). */
  readonly spawned: boolean;
}

/** What `watch` needs of an actor that is not in the inspected system (the device's connection). */
export interface WatchableActor {
  readonly id: string;
  getSnapshot(): unknown;
  subscribe(observer: { next: (snapshot: unknown) => void; error?: (error: unknown) => void }): { unsubscribe(): void };
}

export interface Inspector {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  /** XState's inspection observer: `createActor(machine, { inspect: inspector.inspect })`. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Adds a timeline entry (a directive received, an event sent…). */
  record(entry: { kind: TimelineKind; name: string; json: unknown }): void;
  /** Follows an actor created without `inspect`; returns the way to stop following it. */
  watch(actor: WatchableActor, key?: string): () => void;
  stop(): Promise<void>;
}

export interface InspectorOptions {
  /** The machines to chart, by name (default: every machine of the device). */
  readonly machines?: Readonly<Record<string, AnyStateMachine>>;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Timeline entries kept for pages that connect later (default 500). */
  readonly timelineLimit?: number;
}

/** What a page may leave unread before it is dropped (it reconnects, and is sent the state anew). */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

interface MachineSnapshotLike {
  readonly value: unknown;
  readonly status: string;
  readonly machine: { readonly id: string };
}

function machineSnapshot(snapshot: unknown): MachineSnapshotLike | undefined {
  if (typeof snapshot !== 'object' || snapshot === null) return undefined;
  const s = snapshot as Partial<MachineSnapshotLike>;
  return 'value' in s && typeof s.status === 'string' && typeof s.machine?.id === 'string' ? (s as MachineSnapshotLike) : undefined;
}

/** The active state ids of a state value, as chart.ts names states: `<machine id>.<key>…`. */
export function activeStateIds(machineId: string, value: unknown): string[] {
  const ids = [machineId];
  const walk = (prefix: string, v: unknown) => {
    if (typeof v === 'string') ids.push(`${prefix}.${v}`);
    else if (typeof v === 'object' && v !== null)
      for (const [key, child] of Object.entries(v)) {
        ids.push(`${prefix}.${key}`);
        walk(`${prefix}.${key}`, child);
      }
  };
  walk(machineId, value);
  return ids;
}

const leavesOf = (ids: readonly string[]) => ids.filter((id) => !ids.some((other) => other.startsWith(`${id}.`)));

/**
 * JSON for the page that cannot throw: bigints as strings, buffers and typed arrays by their
 * size (audio has no place on a timeline), functions dropped, a cycle cut.
 */
export function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, function (this: unknown, _key: string, v: unknown) {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'function' || typeof v === 'symbol') return undefined;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `<${v.byteLength} bytes>`;
    if (typeof v === 'object' && v !== null) {
      // Buffer.toJSON runs before the replacer sees it.
      const b = v as { type?: unknown; data?: unknown };
      if (b.type === 'Buffer' && Array.isArray(b.data)) return `<${b.data.length} bytes>`;
      if (seen.has(v)) return '<cycle>';
      seen.add(v);
    }
    return v;
  }) ?? 'null';
}

/** Starts the inspector's server on 127.0.0.1 with every chart rendered. */
export async function startInspector(options: InspectorOptions = {}): Promise<Inspector> {
  const machines = options.machines ?? DEVICE_MACHINES;
  const names = Object.keys(machines);
  const svgs = new Map<string, string>();
  for (const name of names) svgs.set(name, await chartSvg(machines[name] as AnyStateMachine));
  // An actor is drawn on the chart of its machine's definition id.
  const chartOf = new Map<string, string>();
  for (const name of names) if (!chartOf.has((machines[name] as AnyStateMachine).id)) chartOf.set((machines[name] as AnyStateMachine).id, name);
  const page = inspectorPage(names);
  const timelineLimit = options.timelineLimit ?? 500;

  const actors = new Map<string, ActorView>();
  const timeline: TimelineEntry[] = [];
  const clients = new Set<ServerResponse>();
  let seq = 0;
  let stopped = false;

  const send = (res: ServerResponse, event: string, data: string) => res.write(`event: ${event}\ndata: ${data}\n\n`);
  const broadcast = (event: string, data: string) => {
    for (const res of clients) {
      // A page that stopped reading (a frozen tab) must not make the device's process grow.
      if (res.writableLength > MAX_BACKLOG_BYTES) {
        clients.delete(res);
        res.destroy();
      } else send(res, event, data);
    }
  };

  const record = (entry: { kind: TimelineKind; name: string; json: unknown }) => {
    if (stopped) return;
    // Parsed back so the kept entry is plain JSON (and safe to send again to a later page).
    const full: TimelineEntry = { seq: ++seq, at: Date.now(), kind: entry.kind, name: entry.name, json: JSON.parse(safeJson(entry.json)) as unknown };
    timeline.push(full);
    if (timeline.length > timelineLimit) timeline.splice(0, timeline.length - timelineLimit);
    broadcast('timeline', JSON.stringify(full));
  };

  /** A machine actor's snapshot: the page hears of it when its active states or status change. */
  const update = (key: string, spawned: boolean, snapshot: MachineSnapshotLike, cause: string | undefined) => {
    const machineId = snapshot.machine.id;
    const active = activeStateIds(machineId, snapshot.value);
    const before = actors.get(key);
    if (before && before.machineId === machineId && before.status === snapshot.status && before.active.join('\n') === active.join('\n')) return;
    const view: ActorView = { key, machine: chartOf.get(machineId) ?? machineId, machineId, active, leaves: leavesOf(active), status: snapshot.status, spawned };
    actors.set(key, view);
    broadcast('actor', JSON.stringify(view));
    // A machine without states (the device's root, which only holds the others) has none to tell.
    if (active.length === 1) return;
    const states = view.leaves.map((id) => (id.startsWith(`${machineId}.`) ? id.slice(machineId.length + 1) : id)).join(', ');
    record({
      kind: 'state',
      name: `${key}: ${states}${snapshot.status === 'active' ? '' : ` (${snapshot.status})`}`,
      // The cause by type only: an event's payload can carry tokens (authorization) or audio.
      json: { actor: key, machine: machineId, value: snapshot.value, status: snapshot.status, ...(cause ? { event: cause } : {}) },
    });
  };

  const inspect = (event: InspectionEvent) => {
    if (stopped) return;
    try {
      if (event.type !== '@xstate.snapshot' && event.type !== '@xstate.actor') return;
      const snapshot = machineSnapshot(event.type === '@xstate.snapshot' ? event.snapshot : event.actorRef.getSnapshot());
      if (!snapshot) return;
      // The running Actor has these; the inspection event types it as the bare ActorRefLike.
      const ref = event.actorRef as typeof event.actorRef & { id?: unknown; systemId?: unknown; _parent?: unknown };
      const systemId = typeof ref.systemId === 'string' ? ref.systemId : undefined;
      const key = systemId ?? (typeof ref.id === 'string' ? ref.id : ref.sessionId);
      update(key, systemId === undefined && ref._parent !== undefined, snapshot, event.type === '@xstate.snapshot' ? event.event.type : undefined);
    } catch {
      // Inspection must never break the machines it watches.
    }
  };

  const watch = (actor: WatchableActor, key = actor.id) => {
    const follow = (s: unknown) => {
      const snapshot = machineSnapshot(s);
      if (snapshot && !stopped) update(key, false, snapshot, undefined);
    };
    follow(actor.getSnapshot());
    const sub = actor.subscribe({ next: follow, error: () => follow(actor.getSnapshot()) });
    return () => sub.unsubscribe();
  };

  let port = 0;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const security = {
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
    };
    if (!allowedHosts().has(req.headers.host ?? '')) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('the inspector answers only requests to 127.0.0.1 or localhost\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...security }).end(page);
      return;
    }
    const chart = /^\/charts\/([^/]+)\.svg$/.exec(path);
    if (chart) {
      const svg = svgs.get(decodeURIComponent(chart[1] ?? ''));
      if (svg === undefined) res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('no such chart\n');
      else res.writeHead(200, { 'content-type': 'image/svg+xml; charset=utf-8', 'cache-control': 'no-cache', ...security }).end(svg);
      return;
    }
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', ...security });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      res.write('retry: 1000\n\n');
      for (const view of actors.values()) send(res, 'actor', JSON.stringify(view));
      for (const entry of timeline) send(res, 'timeline', JSON.stringify(entry));
      clients.add(res);
      res.on('close', () => clients.delete(res));
      res.on('error', () => clients.delete(res));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // 127.0.0.1 only: never reachable from another machine.
    server.listen({ host: '127.0.0.1', port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    inspect,
    record,
    watch,
    stop: () =>
      (closing ??= new Promise<void>((resolve) => {
        stopped = true;
        for (const res of clients) res.end();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

// Faults the simulator injects on demand (PROTOCOL.md §1.5.4, §1.9, §1.10): which ones are armed,
// and the JSON form `POST /sim/fault` takes. The simulator applies them; this only keeps count.
import * as t from 'io-ts';
import { formatDecodeError, toDecodeError } from '../../machines/envelope/report';
import type { Corruption } from './multipart-body';

/** Which requests a status or delay fault applies to. */
export type FaultTarget = 'event' | 'ping' | 'downchannel';
/** §1.5.4: the error statuses AVS answers with. */
export type FaultStatus = 403 | 429 | 500 | 503;
/** Which multipart body a truncate/corrupt fault spoils: an event's answer or the next downchannel push. */
export type BodyTarget = 'event' | 'downchannel';

export interface FaultOptions {
  /** How many requests in a row (default 1). */
  readonly count?: number;
  /** Default `event`. */
  readonly target?: FaultTarget;
}

/** The faults of a running simulator. Each returns at once; the fault happens on the wire. */
export interface Faults {
  /** Drops every TCP connection (RST, no GOAWAY, no TLS close). Returns how many. */
  dropConnections(): number;
  /** Sends GOAWAY (NO_ERROR unless `code`) on every HTTP/2 session; open streams may finish. */
  goaway(code?: number): number;
  /** RST_STREAM on every open downchannel (INTERNAL_ERROR unless `code`). */
  resetDownchannel(code?: number): number;
  /** Ends every open downchannel cleanly (close delimiter, END_STREAM). */
  endDownchannel(): number;
  /** The next `count` requests of `target` get `status` and the §1.5.4 body; 403 also expires their token. */
  failNext(status: FaultStatus, options?: FaultOptions): void;
  /** The next `count` responses of `target` start `ms` late. */
  delayNext(ms: number, options?: FaultOptions): void;
  /** The next multipart body to `target` is cut in the middle and its stream ended. */
  truncateNext(target?: BodyTarget): void;
  /** The next multipart body to `target` is spoiled: a broken delimiter line, or (`json`) a directive part that is not JSON. */
  corruptNext(target?: BodyTarget, mode?: Corruption): void;
  /** `GET /ping` gets no answer until `resumePings`. */
  stopPings(): void;
  /** Answers the held pings (204) and every later one. */
  resumePings(): void;
  /** Disarms every pending fault and resumes pings. */
  clear(): void;
}

interface Counted<V> {
  readonly target: FaultTarget;
  readonly value: V;
  remaining: number;
}

export type BodyFault = { readonly kind: 'truncate' } | { readonly kind: 'corrupt'; readonly mode: Corruption };

/** The armed faults, consumed as requests come. */
export class FaultState {
  private statuses: Counted<FaultStatus>[] = [];
  private delays: Counted<number>[] = [];
  private bodies: { target: BodyTarget; fault: BodyFault }[] = [];
  pingsStopped = false;

  addStatus(status: FaultStatus, options: FaultOptions = {}): void {
    this.statuses.push({ target: options.target ?? 'event', value: status, remaining: Math.max(1, options.count ?? 1) });
  }

  addDelay(ms: number, options: FaultOptions = {}): void {
    this.delays.push({ target: options.target ?? 'event', value: Math.max(0, ms), remaining: Math.max(1, options.count ?? 1) });
  }

  addBody(target: BodyTarget, fault: BodyFault): void {
    this.bodies.push({ target, fault });
  }

  takeStatus(target: FaultTarget): FaultStatus | undefined {
    return take(this.statuses, target);
  }

  takeDelay(target: FaultTarget): number {
    return take(this.delays, target) ?? 0;
  }

  takeBody(target: BodyTarget): BodyFault | undefined {
    const i = this.bodies.findIndex((b) => b.target === target);
    return i < 0 ? undefined : this.bodies.splice(i, 1)[0].fault;
  }

  clear(): void {
    this.statuses = [];
    this.delays = [];
    this.bodies = [];
    this.pingsStopped = false;
  }
}

function take<V>(list: Counted<V>[], target: FaultTarget): V | undefined {
  const i = list.findIndex((c) => c.target === target);
  if (i < 0) return undefined;
  const c = list[i];
  if (--c.remaining <= 0) list.splice(i, 1);
  return c.value;
}

const Target = t.keyof({ event: null, ping: null, downchannel: null }, '"event" | "ping" | "downchannel"');
const BodyTargetCodec = t.keyof({ event: null, downchannel: null }, '"event" | "downchannel"');
const Count = new t.Type<number, number, unknown>(
  'integer ≥ 1',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 1,
  (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 1 ? t.success(u) : t.failure(u, c)),
  t.identity,
);
const Ms = new t.Type<number, number, unknown>(
  'integer ≥ 0',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
  (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/** The bodies `POST /sim/fault` takes, by their `fault` field (README: faults). */
const FAULT_CODECS = {
  drop: t.type({}),
  goaway: t.partial({ code: Ms }),
  resetDownchannel: t.partial({ code: Ms }),
  endDownchannel: t.type({}),
  status: t.intersection([t.type({ status: t.union([t.literal(403), t.literal(429), t.literal(500), t.literal(503)], '403 | 429 | 500 | 503') }), t.partial({ count: Count, target: Target })]),
  delay: t.intersection([t.type({ ms: Ms }), t.partial({ count: Count, target: Target })]),
  truncate: t.partial({ target: BodyTargetCodec }),
  corrupt: t.partial({ target: BodyTargetCodec, mode: t.keyof({ framing: null, json: null }, '"framing" | "json"') }),
  stopPings: t.type({}),
  resumePings: t.type({}),
  clear: t.type({}),
} as const;

type FaultName = keyof typeof FAULT_CODECS;
export type FaultRequest = { [K in FaultName]: { fault: K } & t.TypeOf<(typeof FAULT_CODECS)[K]> }[FaultName];

/** Reads a `/sim/fault` body; a string is the reason it was refused. */
export function parseFaultRequest(doc: unknown): FaultRequest | string {
  const name = typeof doc === 'object' && doc !== null ? (doc as { fault?: unknown }).fault : undefined;
  if (typeof name !== 'string' || !(name in FAULT_CODECS)) {
    return `$.fault: expected one of ${Object.keys(FAULT_CODECS).map((k) => JSON.stringify(k)).join(', ')}`;
  }
  const codec: t.Mixed = FAULT_CODECS[name as FaultName];
  const r = codec.validate(doc, [{ key: '', type: codec, actual: doc }]);
  if (r._tag === 'Left') return formatDecodeError(toDecodeError(r.left));
  return { ...(r.right as object), fault: name } as FaultRequest;
}

/** Applies a parsed `/sim/fault` request. */
export function applyFault(faults: Faults, f: FaultRequest): void {
  switch (f.fault) {
    case 'drop':
      faults.dropConnections();
      return;
    case 'goaway':
      faults.goaway(f.code);
      return;
    case 'resetDownchannel':
      faults.resetDownchannel(f.code);
      return;
    case 'endDownchannel':
      faults.endDownchannel();
      return;
    case 'status':
      faults.failNext(f.status, { count: f.count, target: f.target });
      return;
    case 'delay':
      faults.delayNext(f.ms, { count: f.count, target: f.target });
      return;
    case 'truncate':
      faults.truncateNext(f.target);
      return;
    case 'corrupt':
      faults.corruptNext(f.target, f.mode);
      return;
    case 'stopPings':
      faults.stopPings();
      return;
    case 'resumePings':
      faults.resumePings();
      return;
    case 'clear':
      faults.clear();
      return;
  }
}

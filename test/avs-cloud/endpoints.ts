// The simulator's endpoints besides the AVS device API: Login with Amazon (PROTOCOL.md §12), the
// capabilities API (§13), media for AudioPlayer URLs (§8.3; stalled, slow, failing or tagged for
// the §8.6 event tests), and the control calls a test or a person uses from outside the process
// (`/sim/…`, README.md).
import { IncomingMessage } from 'node:http';
import { parseCapabilities, type CapabilitiesDocument } from './capabilities';
import type { Exchange } from './exchange';
import { applyFault, type Faults, parseFaultRequest } from './faults';
import { type LwaService, lwaParams } from './lwa';
import { mediaMp3, mp3OffsetAt } from './mp3';
import type { RequestRecord } from './recorder';
import type { Media } from './scenario';
import { bearerToken, type TokenStore } from './tokens';

/** Answers with a JSON body. */
export type Reply = (status: number, body: object) => void;

const MAX_SMALL_BODY = 1024 * 1024;

/** A small request body as text; undefined if over 1 MiB or broken off. */
export function readSmallBody(ex: Exchange): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    ex.body.on('data', (c: Buffer | string) => {
      const b = typeof c === 'string' ? Buffer.from(c) : c;
      size += b.length;
      if (size <= MAX_SMALL_BODY) chunks.push(b);
    });
    // Whichever comes first wins: 'end' (complete), or 'error' / 'close' (broken off).
    ex.body.once('end', () => resolve(size <= MAX_SMALL_BODY ? Buffer.concat(chunks).toString('utf8') : undefined));
    ex.body.once('error', () => resolve(undefined));
    ex.body.once('close', () => resolve(undefined));
  });
}

/** `POST /auth/O2/create/codepair` and `POST /auth/O2/token` (§12.1, §12.3, §12.5). */
export function handleLwa(ex: Exchange, lwa: LwaService, endpoint: 'codepair' | 'token', reply: Reply): void {
  if (ex.method !== 'POST') {
    ex.body.resume();
    return reply(405, { error: 'invalid_request', error_description: `${ex.path} takes POST` });
  }
  void readSmallBody(ex).then((text) => {
    if (ex.closed) return;
    const params = text === undefined ? undefined : lwaParams(ex.headers['content-type'], text);
    if (!params) return reply(400, { error: 'invalid_request', error_description: 'unreadable request body' });
    const result = endpoint === 'codepair' ? lwa.createCodePair(params) : lwa.token(params);
    reply(result.status, result.body);
  });
}

/** `PUT /v1/devices/@self/capabilities` (§13): 204, 400 `{"message"}` or 403; accepted bodies go to `published`. */
export function handleCapabilities(ex: Exchange, tokens: TokenStore, published: CapabilitiesDocument[], reply: Reply): void {
  if (ex.method !== 'PUT') {
    ex.body.resume();
    return reply(405, { message: `${ex.path} takes PUT` });
  }
  // §13: the SDK sends x-amz-access-token, other clients Authorization: Bearer.
  const check = tokens.check(ex.headers['x-amz-access-token'] ?? bearerToken(ex.headers.authorization));
  if (check !== 'ok') {
    ex.body.resume();
    return reply(403, { message: `Invalid token (${check})` });
  }
  void readSmallBody(ex).then((text) => {
    if (ex.closed) return;
    const doc = text === undefined ? 'body too large' : parseCapabilities(text);
    if (typeof doc === 'string') return reply(400, { message: doc });
    published.push(doc);
    ex.respond(204, {});
  });
}

/** How often a paced media response (`bytesPerSecond`) writes. */
const MEDIA_TICK_MS = 50;

/** A scenario `media` entry by URL path: the scenario's own, else `silence-<N>ms`. */
function mediaEntry(path: string, media: Readonly<Record<string, Media>>): { name: string; entry: Media } | undefined {
  const raw = /^\/media\/([^/]+)\.mp3$/.exec(path)?.[1];
  if (raw === undefined) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  // hasOwn: a name like "constructor" must not find Object.prototype's.
  if (Object.hasOwn(media, name)) return { name, entry: media[name] };
  const generated = /^silence-(\d+)ms$/.exec(name)?.[1];
  return generated === undefined ? undefined : { name, entry: { durationMs: Number(generated) } };
}

/**
 * `GET /media/<name>.mp3` and HEAD, no token (an AudioPlayer stream URL, §8.3): the scenario's
 * `media.<name>` — silence as long as `durationMs` behind an ID3v2.3 tag of its `tags`, sent at
 * once or at `bytesPerSecond`, stalling at `stallAtMs` for `stallForMs`, reset after
 * `failAfterMs`; or its error `status` — else `silence-<N>ms.mp3` for every N. The simulator
 * records the request as it records the others (kind `media`) once it is over.
 */
export function handleMedia(ex: Exchange, media: Readonly<Record<string, Media>>, reply: Reply): void {
  ex.body.resume();
  if (ex.method !== 'GET' && ex.method !== 'HEAD') return reply(405, { message: 'GET or HEAD' });
  const found = mediaEntry(ex.path, media);
  if (found === undefined) return reply(404, { message: `no media ${ex.path}` });
  const { name, entry } = found;
  if (entry.status !== undefined) {
    // §8.6 PlaybackFailed at the start: an error answer and no audio.
    if (ex.method === 'HEAD') return ex.sendHeaders(entry.status, { 'content-type': 'application/json;charset=UTF-8' }, true);
    return reply(entry.status, { message: `media ${name}: status ${entry.status}, as the scenario says` });
  }
  if (entry.durationMs === undefined) return reply(500, { message: `media ${name} has neither durationMs nor status` });
  const file = mediaMp3(entry.durationMs, entry.tags);
  // The whole file's length even when it is broken off (failAfterMs), as a file server would.
  const headers = { 'content-type': 'audio/mpeg', 'content-length': file.length };
  if (ex.method === 'HEAD') return ex.sendHeaders(200, headers, true);
  const shaped = entry.stallAtMs !== undefined || entry.bytesPerSecond !== undefined || entry.failAfterMs !== undefined;
  if (!shaped) return ex.respond(200, { 'content-type': 'audio/mpeg' }, file);
  // Resettable: a failing stream must reach the client as a reset, never as an early clean end.
  ex.sendHeaders(200, headers, false, entry.failAfterMs !== undefined);
  void streamMedia(ex, file, entry);
}

/** Writes `file` as `entry` shapes it; stops as soon as the exchange is over (client gone, simulator stopped). */
async function streamMedia(ex: Exchange, file: Buffer, entry: Media): Promise<void> {
  const wait = sleeper(ex);
  const end = entry.failAfterMs === undefined ? file.length : mp3OffsetAt(file, entry.failAfterMs);
  // §8.6 PlaybackStutterStarted/Finished: everything up to the frame holding stallAtMs, then nothing for stallForMs.
  const stallAt = entry.stallAtMs === undefined ? undefined : Math.min(end, mp3OffsetAt(file, entry.stallAtMs));
  const segments = stallAt === undefined ? [[0, end]] : [[0, stallAt], [stallAt, end]];
  for (const [i, [from, to]] of segments.entries()) {
    if (i > 0 && !(await wait(entry.stallForMs ?? 0))) return;
    if (!(await sendPaced(ex, file.subarray(from, to), entry.bytesPerSecond, wait))) return;
  }
  if (entry.failAfterMs === undefined) return ex.end();
  // A failure in the middle (§8.6 PlaybackFailed): what was written reaches the client first,
  // then RST_STREAM (HTTP/2) or a destroyed socket (HTTP/1.1) — never a clean end.
  if (await drained(ex, wait)) ex.reset();
}

/** Writes `bytes` at once, or at `rate` bytes per second in a chunk per tick. False once the exchange is over. */
async function sendPaced(ex: Exchange, bytes: Buffer, rate: number | undefined, wait: (ms: number) => Promise<boolean>): Promise<boolean> {
  if (rate === undefined) {
    if (bytes.length > 0) ex.write(bytes);
    return !ex.closed;
  }
  const started = Date.now();
  let sent = 0;
  while (sent < bytes.length) {
    // A tick's worth ahead of the clock, counted from the start: a late timer catches up, so the
    // rate holds on average however the timers run.
    const due = Math.min(bytes.length, Math.floor((rate * (Date.now() - started + MEDIA_TICK_MS)) / 1000));
    if (due > sent) {
      ex.write(bytes.subarray(sent, due));
      sent = due;
    }
    if (sent < bytes.length && !(await wait(MEDIA_TICK_MS))) return false;
  }
  return !ex.closed;
}

/** `wait(ms)`: true after `ms`, false at once when (or as soon as) the exchange is over — its timer cleared. */
function sleeper(ex: Exchange): (ms: number) => Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let wake: ((alive: boolean) => void) | undefined;
  ex.onClose(() => {
    clearTimeout(timer);
    wake?.(false);
    wake = undefined;
  });
  return (ms) =>
    ex.closed
      ? Promise.resolve(false)
      : new Promise<boolean>((resolve) => {
          wake = resolve;
          timer = setTimeout(() => {
            wake = undefined;
            resolve(true);
          }, ms);
        });
}

/**
 * Waits until what was written has left the process's buffers: a reset drops what is still
 * queued (HTTP/2 discards the stream's pending writes; destroying a socket its unsent data).
 */
async function drained(ex: Exchange, wait: (ms: number) => Promise<boolean>): Promise<boolean> {
  const pending = () => ex.stream?.writableLength ?? (ex.body instanceof IncomingMessage ? ex.body.socket.writableLength : 0);
  while (pending() > 0) if (!(await wait(5))) return false;
  return !ex.closed;
}

/** What the control calls may do to the simulator. */
export interface ControlApi {
  approve(userCode: string): boolean;
  tagNext(tag: string): void;
  pushDirective(doc: object): string;
  records(): readonly RequestRecord[];
  readonly faults: Faults;
  /** Drops every connection but the control client's own. */
  dropConnectionsExcept(remotePort: number | undefined): number;
}

/** The `verification_uri` page (§12.1 step 2): where a person types the user code. */
const CODE_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>avs-device simulator: link a device</title></head>
<body><h1>Link a device</h1>
<form method="post" action="/sim/approve"><label>Code <input name="user_code" autofocus></label> <button>Allow</button></form>
</body></html>
`;

/** `/sim/…` (README.md: control calls). */
export function handleControl(ex: Exchange, api: ControlApi, reply: Reply): void {
  const route = `${ex.method} ${ex.path}`;
  if (route === 'GET /sim/code') {
    ex.body.resume();
    return ex.respond(200, { 'content-type': 'text/html; charset=utf-8' }, CODE_PAGE);
  }
  if (route === 'GET /sim/records') {
    ex.body.resume();
    return reply(200, { records: api.records() });
  }
  if (!['POST /sim/approve', 'POST /sim/fault', 'POST /sim/push', 'POST /sim/tag'].includes(route)) {
    ex.body.resume();
    return reply(404, { error: `no control call ${route}` });
  }
  void readSmallBody(ex).then((text) => {
    if (ex.closed) return;
    if (text === undefined) return reply(400, { error: 'body too large' });
    if (route === 'POST /sim/approve' || route === 'POST /sim/tag') {
      // Form-encoded (the /sim/code page) or JSON.
      const params = lwaParams(ex.headers['content-type'], text) ?? {};
      if (route === 'POST /sim/tag') {
        if (!params.tag) return reply(400, { error: 'tag is missing' });
        api.tagNext(params.tag);
        return ex.respond(204, {});
      }
      return params.user_code && api.approve(params.user_code) ? ex.respond(204, {}) : reply(404, { error: 'unknown or expired user_code' });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      return reply(400, { error: `not JSON: ${(e as Error).message}` });
    }
    if (route === 'POST /sim/push') {
      if (typeof doc !== 'object' || doc === null) return reply(400, { error: 'expected a directive document' });
      return reply(200, { delivery: api.pushDirective(doc) });
    }
    const fault = parseFaultRequest(doc);
    if (typeof fault === 'string') return reply(400, { error: fault });
    // A drop spares the control client's own connection, so it gets its answer.
    if (fault.fault === 'drop') api.dropConnectionsExcept(ex.remotePort);
    else applyFault(api.faults, fault);
    ex.respond(204, {});
  });
}

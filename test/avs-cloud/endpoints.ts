// The simulator's endpoints besides the AVS device API: Login with Amazon (PROTOCOL.md §12), the
// capabilities API (§13), media for AudioPlayer URLs (§8.3), and the control calls a test or a
// person uses from outside the process (`/sim/…`, README.md).
import { parseCapabilities, type CapabilitiesDocument } from './capabilities';
import type { Exchange } from './exchange';
import { applyFault, type Faults, parseFaultRequest } from './faults';
import { type LwaService, lwaParams } from './lwa';
import { silentMp3 } from './mp3';
import type { RequestRecord } from './recorder';
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

/**
 * `GET /media/<name>.mp3`, no token (an AudioPlayer stream URL, §8.3): silence as long as the
 * scenario's `media.<name>.durationMs`, or `silence-<N>ms.mp3` for any N.
 */
export function handleMedia(ex: Exchange, media: Readonly<Record<string, { durationMs: number }>>, reply: Reply): void {
  ex.body.resume();
  if (ex.method !== 'GET' && ex.method !== 'HEAD') return reply(405, { message: 'GET or HEAD' });
  const name = /^\/media\/([^/]+)\.mp3$/.exec(ex.path)?.[1];
  const generated = name === undefined ? undefined : /^silence-(\d+)ms$/.exec(name)?.[1];
  const durationMs = (name !== undefined ? media[name]?.durationMs : undefined) ?? (generated !== undefined ? Number(generated) : undefined);
  if (durationMs === undefined) return reply(404, { message: `no media ${ex.path}` });
  const mp3 = silentMp3(durationMs);
  if (ex.method === 'HEAD') ex.sendHeaders(200, { 'content-type': 'audio/mpeg', 'content-length': mp3.length }, true);
  else ex.respond(200, { 'content-type': 'audio/mpeg' }, mp3);
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

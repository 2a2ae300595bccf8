// One request and its response, whether it came as an HTTP/2 stream or as an HTTP/1.1 request
// (PROTOCOL.md §12: LWA and the capabilities API are plain HTTPS/1.1, on the same port here).
// Nothing here throws at a client that went away: writes to a closed exchange are dropped.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import * as http2 from 'node:http2';
import type { Readable } from 'node:stream';

export type ResponseHeaders = Readonly<Record<string, string | number>>;

export interface Exchange {
  readonly protocol: 'h2' | 'http/1.1';
  /** The id of the connection (HTTP/2 session or HTTP/1.1 socket), from 1. */
  readonly connection: number;
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case names, repeated values joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The request body. */
  readonly body: Readable;
  /** The HTTP/2 stream and session (absent over HTTP/1.1). */
  readonly stream?: http2.ServerHttp2Stream;
  readonly session?: http2.Http2Session;
  readonly headersSent: boolean;
  /** The exchange is over (response ended, stream reset, or connection gone). */
  readonly closed: boolean;
  /** The simulator has ended its response (it may still be on its way). */
  readonly ended: boolean;
  /** The simulator ended its response and nobody reset the exchange. */
  readonly completed: boolean;
  readonly status: number;
  /** The client's TCP port: which connection this is, whatever wraps the socket. */
  readonly remotePort: number | undefined;
  /**
   * Sends the status line and headers now; `end` also ends the response (no body). `resettable`
   * (HTTP/2): the response's end is held back so a later `reset` really reaches the client as
   * RST_STREAM — Node flushes pending data, END_STREAM included, before an RST_STREAM, and a
   * client ignores an RST_STREAM on a stream that has already ended.
   */
  sendHeaders(status: number, headers?: ResponseHeaders, end?: boolean, resettable?: boolean): void;
  write(chunk: Buffer): void;
  end(chunk?: Buffer): void;
  /** A complete response. */
  respond(status: number, headers: ResponseHeaders, body?: Buffer | string): void;
  /** Abort: RST_STREAM with `code` over HTTP/2, the socket destroyed over HTTP/1.1. */
  reset(code?: number): void;
  onClose(listener: () => void): void;
}

const flatten = (headers: IncomingHttpHeaders | http2.IncomingHttpHeaders): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  return out;
};

function splitPath(raw: string): { path: string; query: URLSearchParams } {
  const q = raw.indexOf('?');
  return q < 0 ? { path: raw, query: new URLSearchParams() } : { path: raw.slice(0, q), query: new URLSearchParams(raw.slice(q + 1)) };
}

export function h2Exchange(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, connection: number): Exchange {
  const flat = flatten(headers);
  const { path, query } = splitPath(flat[':path'] ?? '/');
  let status = 0;
  let resetting = false;
  let ended = false;
  const usable = () => !stream.destroyed && !stream.closed && stream.writable;
  // A resettable response ends with an empty trailer block (END_STREAM) unless it is being reset.
  // Node may ask more than once (an end racing a reset); trailers go at most once, never throwing.
  stream.on('wantTrailers', () => {
    if (resetting || stream.destroyed || stream.closed || stream.sentTrailers !== undefined) return;
    try {
      stream.sendTrailers({});
    } catch {
      // The stream ended meanwhile; nothing left to end.
    }
  });
  return {
    protocol: 'h2',
    connection,
    method: flat[':method'] ?? 'GET',
    path,
    query,
    headers: flat,
    body: stream,
    stream,
    session: stream.session,
    get headersSent() {
      return stream.headersSent;
    },
    get closed() {
      return stream.destroyed || stream.closed;
    },
    get ended() {
      return ended || resetting;
    },
    get completed() {
      return ended && !resetting && (stream.rstCode ?? http2.constants.NGHTTP2_NO_ERROR) === http2.constants.NGHTTP2_NO_ERROR;
    },
    get status() {
      return status;
    },
    get remotePort() {
      return stream.session?.socket?.remotePort;
    },
    sendHeaders(s, h = {}, end = false, resettable = false) {
      if (stream.headersSent || stream.destroyed || stream.closed) return;
      status = s;
      ended = end;
      stream.respond({ ':status': s, ...h }, { endStream: end, waitForTrailers: resettable && !end });
    },
    write(chunk) {
      if (usable()) stream.write(chunk);
    },
    end(chunk) {
      if (!usable()) return;
      ended = true;
      if (chunk) stream.end(chunk);
      else stream.end();
    },
    respond(s, h, body) {
      const bytes = body === undefined ? undefined : Buffer.from(body);
      const empty = bytes === undefined || bytes.length === 0;
      this.sendHeaders(s, empty ? h : { ...h, 'content-length': bytes.length }, empty);
      if (!empty) this.end(bytes);
    },
    reset(code = http2.constants.NGHTTP2_INTERNAL_ERROR) {
      resetting = true;
      if (!stream.destroyed && !stream.closed) stream.close(code);
    },
    onClose(listener) {
      if (stream.closed || stream.destroyed) setImmediate(listener);
      else stream.once('close', listener);
    },
  };
}

export function http1Exchange(req: IncomingMessage, res: ServerResponse, connection: number): Exchange {
  const { path, query } = splitPath(req.url ?? '/');
  let status = 0;
  let closed = false;
  res.once('close', () => {
    closed = true;
  });
  const usable = () => !closed && !res.writableEnded && !res.destroyed;
  return {
    protocol: 'http/1.1',
    connection,
    method: req.method ?? 'GET',
    path,
    query,
    headers: flatten(req.headers),
    body: req,
    get headersSent() {
      return res.headersSent;
    },
    get closed() {
      return closed || res.writableEnded;
    },
    get ended() {
      return res.writableEnded;
    },
    get completed() {
      return res.writableFinished;
    },
    get status() {
      return status;
    },
    get remotePort() {
      return req.socket.remotePort;
    },
    sendHeaders(s, h = {}, end = false) {
      if (res.headersSent || !usable()) return;
      status = s;
      res.writeHead(s, h);
      if (end) res.end();
      else res.flushHeaders();
    },
    write(chunk) {
      if (usable()) res.write(chunk);
    },
    end(chunk) {
      if (!usable()) return;
      if (chunk) res.end(chunk);
      else res.end();
    },
    respond(s, h, body) {
      const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
      this.sendHeaders(s, s === 204 || s === 304 ? h : { ...h, 'content-length': bytes.length }, false);
      this.end(bytes.length > 0 ? bytes : undefined);
    },
    reset() {
      req.socket.destroy();
    },
    onClose(listener) {
      if (closed) setImmediate(listener);
      else res.once('close', listener);
    },
  };
}

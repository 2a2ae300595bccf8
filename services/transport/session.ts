// One HTTP/2 connection to AVS (PROTOCOL.md §1): the downchannel, events, ping. It reports what
// happens (opened, lost, each answer); the connection machine decides what to do about it.
import http2 from 'node:http2';
import { rootCertificates } from 'node:tls';
import type { Readable } from 'node:stream';
import { Observable, ReplaySubject, Subject, type Subscription } from 'rxjs';
import { decodeExceptionBody, type DecodeResult } from '../../machines/catalog';
import type { SystemExceptionBody } from '../../machines/system/messages';
import { AttachmentStore, boundaryFromContentType, createEventBody, readMultipart, type AvsPart } from '../multipart';

export const PATHS = {
  directives: '/v20160207/directives',
  events: '/v20160207/events',
  ping: '/ping',
} as const;

/** §1.7: the SDK's cap on concurrent streams per connection (downchannel and ping included). */
export const MAX_STREAMS = 10;
/** §1.5.3: the SDK keeps at most this much of an error body. */
const MAX_ERROR_BODY = 4096;

export interface SessionOptions {
  /** Base URL: `https://…` (TLS, the default) or `http://…` (h2c, only when it says so). */
  readonly endpoint: string;
  /** The current access token, read for every request (§1.6 step 7: new requests carry the new token). */
  readonly token: () => string | undefined;
  /** Extra CA certificates (PEM) trusted beside the system's, for private endpoints. */
  readonly ca?: string | Buffer;
  /** Where attachments go, shared by every body of the device. */
  readonly attachments?: AttachmentStore;
  /** §1.9 */
  readonly pingIdleMs?: number;
  readonly pingTimeoutMs?: number;
  /** §1.6 step 4 (the SDK gives 60 s). */
  readonly connectTimeoutMs?: number;
  /** §1.7: an event with no response headers after this long has stalled (the SDK v1.21: 15 s). */
  readonly eventTimeoutMs?: number;
  readonly maxStreams?: number;
  readonly now?: () => number;
}

/** Why the session could not open: `status` when AVS answered the downchannel. */
export class SessionError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SessionError';
    void this.stack;
  }
}

/** The answer to an event, available as soon as its headers arrived (§1.7). */
export interface EventResponse {
  readonly status: number;
  /** x-amzn-requestid, for Amazon support (§1.5.1). */
  readonly requestId: string | undefined;
  /** Directives and attachments of a 200 answer, as they arrive (empty for 204 and errors). */
  readonly parts$: Observable<AvsPart>;
  /** §1.5.3: the System.Exception body of an error answer, once read. */
  readonly exception: Promise<DecodeResult<SystemExceptionBody> | undefined>;
  /** Settles when the whole answer has been read (rejects if it broke off). */
  readonly done: Promise<void>;
}

interface PendingPost {
  readonly metadata: object | string;
  readonly audio?: AsyncIterable<Buffer | Uint8Array>;
  readonly resolve: (r: EventResponse) => void;
  readonly reject: (e: Error) => void;
}

const noop = () => {};

export class AvsSession {
  /** Downchannel directives and attachments, as they complete (§1.5.1). */
  readonly directives$: Observable<AvsPart>;
  /** Emits once, with the reason, when the session ends other than by `close()`. */
  readonly lost$: Observable<string>;
  readonly attachments: AttachmentStore;

  private readonly client: http2.ClientHttp2Session;
  private readonly directives = new Subject<AvsPart>();
  private readonly lost = new ReplaySubject<string>(1);
  private readonly queue: PendingPost[] = [];
  private awaitingHeaders = false;
  private streams = 0;
  private ended = false;
  private lastActivity: number;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly maxStreams: number;
  private readonly pingIdleMs: number;
  private readonly pingTimeoutMs: number;

  private constructor(private readonly options: SessionOptions) {
    this.now = options.now ?? Date.now;
    this.maxStreams = options.maxStreams ?? MAX_STREAMS;
    this.pingIdleMs = options.pingIdleMs ?? 5 * 60_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 15_000;
    this.attachments = options.attachments ?? new AttachmentStore();
    this.lastActivity = this.now();
    this.directives$ = this.directives.asObservable();
    this.lost$ = this.lost.asObservable();
    const url = new URL(options.endpoint);
    // §1.1: TLS unless the endpoint says http://; the system's CAs always, plus a private one if
    // given. Certificate checks are never switched off — not even by NODE_TLS_REJECT_UNAUTHORIZED=0,
    // which Node obeys unless rejectUnauthorized is given.
    this.client =
      url.protocol === 'http:'
        ? http2.connect(url.origin)
        : http2.connect(url.origin, { rejectUnauthorized: true, ...(options.ca ? { ca: [...rootCertificates, options.ca.toString()] } : {}) });
    this.client.on('error', (e) => this.end(`connection error: ${e.message}`));
    // §1.10: stop opening streams; reconnect at once (streams in flight may still finish).
    this.client.on('goaway', (code) => this.end(`GOAWAY (code ${code})`));
    this.client.on('close', () => this.end('connection closed'));
  }

  /**
   * §1.6 steps 3–4: connects and opens the downchannel; resolves once it answered 200. Rejects with
   * a SessionError (with the status when AVS answered) otherwise.
   */
  static open(options: SessionOptions): Promise<AvsSession> {
    try {
      return AvsSession.start(options).ready;
    } catch (e) {
      return Promise.reject(new SessionError(`cannot connect to ${options.endpoint}: ${(e as Error).message}`));
    }
  }

  /**
   * Like `open`, but hands out the session at once, so a caller that gives up before it is
   * ready can `destroy` it (nothing is left connecting). Throws on an unusable endpoint URL.
   */
  static start(options: SessionOptions): { session: AvsSession; ready: Promise<AvsSession> } {
    const session = new AvsSession(options);
    const ready = session.openDownchannel().then(
      () => session,
      (e: Error) => {
        session.destroy();
        throw e instanceof SessionError ? e : new SessionError(e.message);
      },
    );
    return { session, ready };
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  private openDownchannel(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timeoutMs = this.options.connectTimeoutMs ?? 60_000;
      const settle = () => {
        clearTimeout(timer);
        failed?.unsubscribe();
      };
      const timer = setTimeout(() => {
        settle();
        reject(new SessionError(`the downchannel did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const failed: Subscription | undefined = this.lost.subscribe((reason) => {
        // The server may answer (say, 403) and close at once: let a pending answer speak first,
        // so the caller learns the status and not only that the connection went.
        setImmediate(() => {
          settle();
          reject(new SessionError(reason));
        });
      });
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.request({ ':method': 'GET', ':path': PATHS.directives }, true);
        this.downchannel = stream;
      } catch (e) {
        settle();
        reject(new SessionError(`cannot open the downchannel: ${(e as Error).message}`));
        return;
      }
      stream.on('response', (headers) => {
        const status = Number(headers[':status']);
        if (status !== 200) {
          settle();
          readErrorBody(stream).then((body) =>
            reject(new SessionError(`the downchannel was refused with ${status}${body ? `: ${body.slice(0, 200)}` : ''}`, status)),
          );
          return;
        }
        const boundary = boundaryFromContentType(String(headers['content-type'] ?? ''));
        if (!boundary) {
          settle();
          reject(new SessionError(`the downchannel answered without a multipart boundary (${String(headers['content-type'])})`));
          return;
        }
        stream.on('data', () => this.touch());
        readMultipart(stream, boundary, { lenient: true, store: this.attachments }).subscribe({
          next: (part) => this.directives.next(part),
          // §1.6 "Downchannel lifetime": whenever the downchannel ends, the connection has ended.
          error: (e: Error) => this.end(`downchannel broke off: ${e.message}`),
          complete: () => this.end('downchannel ended'),
        });
        stream.on('close', () => this.end(`downchannel closed (rst ${stream.rstCode})`));
        settle();
        this.armPing();
        resolve();
      });
    });
  }

  /**
   * Sends one event (§1.4). Events go out one at a time: the next starts only once the one before
   * has its response headers (§1.7), and never beyond the stream cap. Resolves with the answer
   * as soon as its headers arrived; rejects if the session ends first.
   */
  post(metadata: object | string, audio?: AsyncIterable<Buffer | Uint8Array>): Promise<EventResponse> {
    if (this.ended) return Promise.reject(new SessionError('not connected'));
    return new Promise<EventResponse>((resolve, reject) => {
      this.queue.push({ metadata, audio, resolve, reject });
      this.pump();
    });
  }

  /** §1.9: `GET /ping`; resolves with the status, or rejects on timeout or a broken stream. */
  ping(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.request({ ':method': 'GET', ':path': PATHS.ping }, true);
      } catch (e) {
        reject(e as Error);
        return;
      }
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new SessionError(`ping not answered within ${this.pingTimeoutMs} ms`));
      }, this.pingTimeoutMs);
      stream.on('response', (headers) => {
        clearTimeout(timer);
        resolve(Number(headers[':status']));
        stream.resume();
      });
      stream.on('close', () => {
        clearTimeout(timer);
        reject(new SessionError('ping stream closed without an answer'));
      });
    });
  }

  /** Closes on purpose: no `lost$`; in-flight streams are cut after `graceMs`. */
  close(graceMs = 2000): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    this.stopPing();
    this.failQueue('the session was closed');
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.hardClose(), graceMs);
      timer.unref();
      this.client.close(() => {
        clearTimeout(timer);
        resolve();
      });
      // The downchannel never ends by itself: cancel it so close() can complete.
      for (const s of this.open) s.close(http2.constants.NGHTTP2_CANCEL);
      this.directives.complete();
      if (this.client.destroyed) resolve();
    });
  }

  /** Tears the connection down at once. */
  destroy(): void {
    this.end('destroyed');
    this.hardClose();
  }

  /** Destroys the session (Node refuses direct socket manipulation on HTTP/2 sessions). */
  private hardClose(): void {
    if (!this.client.destroyed) this.client.destroy();
  }

  private readonly open = new Set<http2.ClientHttp2Stream>();
  private downchannel: http2.ClientHttp2Stream | undefined;

  private request(headers: http2.OutgoingHttpHeaders, endStream: boolean): http2.ClientHttp2Stream {
    const token = this.options.token();
    // After GOAWAY `request` throws (ERR_HTTP2_GOAWAY_SESSION): callers catch it.
    const stream = this.client.request({ ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) }, { endStream });
    this.streams++;
    this.open.add(stream);
    this.touch();
    stream.on('error', noop); // reported through 'close' and the callers' own handling
    stream.on('close', () => {
      this.streams--;
      this.open.delete(stream);
      this.pump();
    });
    return stream;
  }

  private pump(): void {
    while (!this.ended && !this.awaitingHeaders && this.queue.length > 0 && this.streams < this.maxStreams) {
      this.start(this.queue.shift() as PendingPost);
    }
  }

  private start(pending: PendingPost): void {
    const { contentType, body } = createEventBody(pending.metadata, pending.audio);
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.request({ ':method': 'POST', ':path': PATHS.events, 'content-type': contentType }, false);
    } catch (e) {
      pending.reject(new SessionError(`cannot send the event: ${(e as Error).message}`));
      return;
    }
    this.awaitingHeaders = true;
    // §1.7: a stream that gets no answer has stalled: give it up, and ping to tell a stuck
    // request from a dead connection.
    const timeoutMs = this.options.eventTimeoutMs ?? 15_000;
    const stalled = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      this.verify();
    }, timeoutMs);
    stalled.unref();
    const headersArrived = () => {
      clearTimeout(stalled);
      if (!this.awaitingHeaders) return;
      this.awaitingHeaders = false;
      this.pump();
    };
    body.on('data', () => this.touch());
    body.on('error', (e) => stream.close(http2.constants.NGHTTP2_CANCEL, () => pending.reject(new SessionError(`the event body failed: ${e.message}`))));
    body.pipe(stream);
    let answered = false;
    stream.on('close', () => {
      headersArrived();
      // Once answered the promise is settled: making the error anyway (and formatting its stack)
      // cost every event tens of microseconds (test/bench).
      if (!answered) pending.reject(new SessionError(`the event stream ended without an answer (rst ${stream.rstCode})`));
    });
    stream.on('response', (headers) => {
      answered = true;
      headersArrived();
      stream.on('data', () => this.touch());
      pending.resolve(this.answer(stream, headers));
    });
  }

  private answer(stream: http2.ClientHttp2Stream, headers: http2.IncomingHttpHeaders): EventResponse {
    const status = Number(headers[':status']);
    const requestId = typeof headers['x-amzn-requestid'] === 'string' ? headers['x-amzn-requestid'] : undefined;
    const boundary = status === 200 ? boundaryFromContentType(String(headers['content-type'] ?? '')) : undefined;
    if (boundary) {
      // Read at once into a replay buffer: the caller may subscribe a moment later, and an
      // unread stream would hold the connection's flow control.
      const parts = new ReplaySubject<AvsPart>();
      const done = new Promise<void>((resolve, reject) => {
        readMultipart(stream, boundary, { lenient: true, store: this.attachments }).subscribe({
          next: (p) => parts.next(p),
          error: (e: Error) => {
            parts.error(e);
            reject(e);
          },
          complete: () => {
            parts.complete();
            resolve();
          },
        });
      });
      done.catch(noop);
      return { status, requestId, parts$: parts.asObservable(), exception: Promise.resolve(undefined), done };
    }
    const exception =
      status >= 300
        ? readErrorBody(stream).then((text) => {
            if (!text) return undefined;
            try {
              return decodeExceptionBody(JSON.parse(text));
            } catch {
              return undefined;
            }
          })
        : (stream.resume(), Promise.resolve(undefined));
    const done = new Promise<void>((resolve) => stream.on('close', resolve));
    return { status, requestId, parts$: new Observable<AvsPart>((s) => s.complete()), exception, done };
  }

  private touch(): void {
    this.lastActivity = this.now();
  }

  /** Checks the connection now (a ping); a failure ends the session. */
  private verify(): void {
    if (this.ended) return;
    this.ping().then(
      (status) => {
        if (status !== 204) this.end(`ping answered ${status}`);
      },
      (e: Error) => this.end(e.message),
    );
  }

  /** §1.9: after pingIdleMs with no bytes either way, verify the connection. */
  private armPing(): void {
    this.stopPing();
    if (this.ended) return;
    const wait = Math.max(0, this.lastActivity + this.pingIdleMs - this.now());
    this.pingTimer = setTimeout(() => {
      if (this.ended) return;
      if (this.now() - this.lastActivity < this.pingIdleMs) return this.armPing();
      this.ping().then(
        (status) => {
          if (status === 204) {
            this.touch();
            this.armPing();
          } else {
            this.end(`ping answered ${status}`);
          }
        },
        (e: Error) => this.end(e.message),
      );
    }, wait);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
  }

  private failQueue(reason: string): void {
    for (const p of this.queue.splice(0)) p.reject(new SessionError(reason));
  }

  /** The session is over (not on purpose): report it once, and make sure it is torn down. */
  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stopPing();
    this.failQueue(`not connected: ${reason}`);
    this.lost.next(reason);
    this.lost.complete();
    this.directives.complete();
    if (this.downchannel && !this.downchannel.closed) this.downchannel.close(http2.constants.NGHTTP2_CANCEL);
    // §1.10: no new streams; those in flight may finish (briefly), then the connection goes.
    if (this.client.destroyed) return;
    const timer = setTimeout(() => this.hardClose(), 2000);
    timer.unref();
    this.client.close(() => clearTimeout(timer));
  }
}

/** Up to MAX_ERROR_BODY bytes of a response body, as text. */
function readErrorBody(stream: Readable): Promise<string> {
  return new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      if (size < MAX_ERROR_BODY) chunks.push(c);
      size += c.length;
    });
    const finish = () => resolve(Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8'));
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  });
}

// A plain node:http2 client for the simulator's own tests (not the device runtime): requests,
// events with streamed audio, and a downchannel read with the project's multipart reader.
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { lastValueFrom, toArray } from 'rxjs';
import { boundaryFromContentType, createEventBody, readMultipart, type AvsPart } from '../../services/multipart';
import type { Simulator } from './api';

export interface Response {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** An HTTP/2 session to the simulator (trusting its CA over TLS). */
export function connect(sim: Simulator): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(sim.url, sim.ca ? { ca: sim.ca } : {});
    session.once('error', reject);
    session.once('connect', () => {
      session.off('error', reject);
      session.on('error', () => undefined); // faults end sessions on purpose
      resolve(session);
    });
  });
}

/** Reads a whole response. */
export function responseOf(stream: http2.ClientHttp2Stream): Promise<Response> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      headers = h;
      status = Number(h[':status']);
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
  });
}

export function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string): Promise<Response> {
  const stream = session.request(headers, { endStream: body === undefined });
  const response = responseOf(stream);
  if (body !== undefined) stream.end(body);
  return response;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const ping = (session: http2.ClientHttp2Session, token: string) => request(session, { ':path': '/ping', ...bearer(token) });

/** Parts as they arrive, awaited one at a time. */
export class PartQueue {
  private readonly parts: AvsPart[] = [];
  private waiting: ((p: AvsPart) => void) | undefined;
  failure: Error | undefined;
  private onFailure: ((e: Error) => void) | undefined;
  readonly failed: Promise<Error>;

  constructor(source: Readable, boundary: string) {
    this.failed = new Promise((resolve) => (this.onFailure = resolve));
    readMultipart(source, boundary).subscribe({
      next: (p) => {
        const w = this.waiting;
        this.waiting = undefined;
        if (w) w(p);
        else this.parts.push(p);
      },
      error: (e: Error) => {
        this.failure = e;
        this.onFailure?.(e);
      },
    });
  }

  next(timeoutMs = 5000): Promise<AvsPart> {
    const ready = this.parts.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no part within ${timeoutMs} ms${this.failure ? ` (${this.failure.message})` : ''}`));
      }, timeoutMs);
      this.waiting = (p) => {
        clearTimeout(timer);
        resolve(p);
      };
    });
  }

  /** The next part, which must be a directive that decoded: its header and payload. */
  async nextDirective(timeoutMs = 5000): Promise<{ header: Record<string, unknown>; payload: Record<string, unknown>; text: string }> {
    const part = await this.next(timeoutMs);
    if (part.kind !== 'directive') throw new Error(`expected a directive part, got ${part.kind}`);
    const doc = JSON.parse(part.text) as { directive: { header: Record<string, unknown>; payload: Record<string, unknown> } };
    return { ...doc.directive, text: part.text };
  }
}

/** The directive documents of a complete multipart answer, in order. */
export async function answerDirectives(response: Response): Promise<{ directive: { header: Record<string, unknown>; payload: Record<string, unknown> } }[]> {
  const boundary = boundaryFromContentType(String(response.headers['content-type']));
  if (!boundary) throw new Error(`not a multipart answer: ${response.status} ${response.headers['content-type']}`);
  const parts = await lastValueFrom(readMultipart(Readable.from([response.body]), boundary).pipe(toArray()));
  return parts.flatMap((p) => (p.kind === 'directive' ? [JSON.parse(p.text) as { directive: { header: Record<string, unknown>; payload: Record<string, unknown> } }] : []));
}

export interface OpenDownchannel {
  readonly stream: http2.ClientHttp2Stream;
  readonly headers: http2.IncomingHttpHeaders;
  readonly parts: PartQueue;
}

export function openDownchannel(session: http2.ClientHttp2Session, token: string): Promise<OpenDownchannel> {
  const stream = session.request({ ':path': '/v20160207/directives', ...bearer(token) });
  stream.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    stream.once('response', (headers) => {
      if (headers[':status'] !== 200) return reject(new Error(`downchannel answered ${headers[':status']}`));
      const boundary = boundaryFromContentType(String(headers['content-type']));
      if (!boundary) return reject(new Error(`no boundary in ${headers['content-type']}`));
      resolve({ stream, headers, parts: new PartQueue(stream, boundary) });
    });
    stream.once('error', reject);
  });
}

export interface SentEvent {
  readonly stream: http2.ClientHttp2Stream;
  /** The response headers (status line), as soon as they arrive. */
  readonly headers: Promise<http2.IncomingHttpHeaders>;
  readonly response: Promise<Response>;
}

/** POSTs an event; `audio`, when given, is written into the body as it produces chunks. */
export function sendEvent(
  session: http2.ClientHttp2Session,
  token: string,
  metadata: object,
  audio?: AsyncIterable<Buffer>,
  extra: http2.OutgoingHttpHeaders = {},
  boundary?: string,
): SentEvent {
  const body = createEventBody(metadata, audio, boundary);
  const stream = session.request({ ':method': 'POST', ':path': '/v20160207/events', 'content-type': body.contentType, ...bearer(token), ...extra });
  stream.on('error', () => undefined);
  const headers = new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
  });
  const response = responseOf(stream);
  response.catch(() => undefined);
  headers.catch(() => undefined);
  body.body.pipe(stream);
  return { stream, headers, response };
}

export interface Microphone {
  readonly audio: PassThrough;
  /** Stops producing audio but keeps the part open (the user went quiet, the upload did not end). */
  hold(): void;
  /** Ends the audio part. */
  stop(): void;
  /** Chunks written so far. */
  written(): number;
}

/** A microphone stand-in: `bytes`-sized chunks every `everyMs` (§1.4: 320 bytes per 10 ms). */
export function pacedAudio(bytes = 320, everyMs = 10): Microphone {
  const audio = new PassThrough();
  let count = 0;
  const timer = setInterval(() => {
    audio.write(Buffer.alloc(bytes, count & 0xff));
    count++;
  }, everyMs);
  return {
    audio,
    hold: () => clearInterval(timer),
    stop: () => {
      clearInterval(timer);
      audio.end();
    },
    written: () => count,
  };
}

const FIXTURES = join(__dirname, '..', 'fixtures', 'messages', 'valid');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, unknown>;

/** A valid Recognize metadata document (§5.3) with the given profile. */
export function recognize(profile: 'CLOSE_TALK' | 'NEAR_FIELD' | 'FAR_FIELD', dialogRequestId = `dialog-${Math.random().toString(36).slice(2)}`): {
  doc: object;
  dialogRequestId: string;
} {
  const doc = fixture('SpeechRecognizer.Recognize') as { event: { header: Record<string, unknown>; payload: Record<string, unknown> } };
  doc.event.header.messageId = `msg-${Math.random().toString(36).slice(2)}`;
  doc.event.header.dialogRequestId = dialogRequestId;
  doc.event.payload.profile = profile;
  if (profile === 'CLOSE_TALK') doc.event.payload.initiator = { type: 'PRESS_AND_HOLD', payload: {} };
  return { doc, dialogRequestId };
}

/** §14.5 SynchronizeState. */
export const synchronizeState = (): object => fixture('System.SynchronizeState');

/** A bare event envelope (no context), for events of any namespace. */
export const event = (namespace: string, name: string, payload: object = {}, header: object = {}): object => ({
  event: { header: { namespace, name, messageId: `msg-${Math.random().toString(36).slice(2)}`, ...header }, payload },
});

export function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.destroyed) return resolve();
    session.once('close', () => resolve());
    session.destroy();
  });
}

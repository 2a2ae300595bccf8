// The AVS body reader (PROTOCOL.md §1.5.1): multipart/related responses and the never-ending
// downchannel body, turned into parts in wire order — directives decoded as they complete,
// attachments as streams in the AttachmentStore from their first byte.
import type { Readable } from 'node:stream';
import { Observable } from 'rxjs';
import { classifyMessage, decodeDirective, decodeExceptionBody, type DecodeResult, type Directive } from '../../machines/catalog';
import { ruleError } from '../../machines/envelope/report';
import type { SystemExceptionBody } from '../../machines/system/messages';
import { AttachmentError, AttachmentStore, type AttachmentSink } from './attachments';
import { MultipartError, MultipartParser, type ParserLimits, type PartHeaders } from './parser';

export type AvsPart =
  /** A JSON part holding `{"directive":…}`, decoded (ok / invalid / unsupported). */
  | { readonly kind: 'directive'; readonly text: string; readonly result: DecodeResult<Directive>; readonly headers: PartHeaders }
  /** §11.3: a bare System.Exception object sent as a part (unverified, handled like the Java sample). */
  | { readonly kind: 'exception'; readonly text: string; readonly result: DecodeResult<SystemExceptionBody>; readonly headers: PartHeaders }
  /**
   * A binary part, announced at its first byte: `open()` streams it (the same as
   * `store.open(contentId)`, which a directive naming `cid:<contentId>` can call instead).
   */
  | { readonly kind: 'attachment'; readonly contentId: string; readonly headers: PartHeaders; readonly open: () => Readable }
  /** A part that was not used: an unknown type (§1.5.1: skip it) or a JSON part over the limit. */
  | { readonly kind: 'skipped'; readonly bytes: number; readonly headers: PartHeaders; readonly error?: MultipartError };

export interface ReaderOptions {
  /** Decode directives leniently (§16 #6), as the runtime does. */
  readonly lenient?: boolean;
  /** Where attachments go; shared by every reader of a connection so a `cid:` can be found in another body. */
  readonly store?: AttachmentStore;
  /** Largest JSON part (a directive is a few KB). */
  readonly maxJsonPartBytes?: number;
  /** Largest attachment. */
  readonly maxAttachmentBytes?: number;
  readonly limits?: ParserLimits;
}

export interface PartHandlers {
  onPart(part: AvsPart): void;
  /** The close delimiter was read: the body is complete. */
  onClose(): void;
  /** The body is malformed or broke off; no more parts follow. */
  onError(error: MultipartError): void;
}

type Current =
  | { kind: 'json'; chunks: Buffer[]; size: number; overflow: boolean; headers: PartHeaders }
  | { kind: 'attachment'; sink: AttachmentSink; size: number; overflow: boolean }
  | { kind: 'other'; size: number; headers: PartHeaders };

const isJson = (headers: PartHeaders): boolean => /application\/json/i.test(headers['content-type'] ?? '');

/** The push side of the reader: feed it bytes, get parts. Never throws on bad input. */
export class AvsPartReader {
  readonly store: AttachmentStore;
  private readonly parser: MultipartParser;
  private current: Current | undefined;
  private readonly maxJson: number;
  private readonly maxAttachment: number;
  /** The attachment whose consumer asked the reader to wait, until it wants more. */
  private fullSink: AttachmentSink | undefined;
  private finished = false;

  constructor(
    boundary: string,
    private readonly handlers: PartHandlers,
    private readonly options: ReaderOptions = {},
  ) {
    this.store = options.store ?? new AttachmentStore();
    this.maxJson = options.maxJsonPartBytes ?? 1024 * 1024;
    this.maxAttachment = options.maxAttachmentBytes ?? 512 * 1024 * 1024;
    this.parser = new MultipartParser(
      boundary,
      {
        onPartStart: (h) => this.partStart(h),
        onPartData: (c) => this.partData(c),
        onPartEnd: () => this.partEnd(),
        onClose: () => {
          this.finished = true;
          this.handlers.onClose();
        },
        onError: (e) => this.fail(e),
      },
      options.limits,
    );
  }

  /**
   * Feeds bytes. False: an attachment's consumer is full — wait for `onDemand` before the next
   * write. The chunk must not be reused afterwards: parts keep views of it, not copies.
   */
  write(chunk: Buffer): boolean {
    this.fullSink = undefined;
    try {
      this.parser.write(chunk);
    } catch (e) {
      // A consumer's callback threw; that must not tear the reader down silently.
      this.fail(new MultipartError('ABORTED', `a part handler failed: ${(e as Error).message}`));
    }
    return this.fullSink === undefined;
  }

  /** The input has ended. */
  end(): void {
    this.parser.end();
  }

  /** The source failed: the body is broken off. */
  abort(reason: string): void {
    if (this.finished) return;
    this.fail(new MultipartError('ABORTED', reason));
  }

  /** Calls back once the consumer that was full wants more (at once if none is). */
  onDemand(callback: () => void): void {
    const sink = this.fullSink;
    this.fullSink = undefined;
    if (!sink) return callback();
    sink.onDemand(callback);
  }

  private fail(error: MultipartError): void {
    if (this.finished) return;
    this.finished = true;
    if (this.current?.kind === 'attachment') {
      this.current.sink.fail(new AttachmentError('ATTACHMENT_INCOMPLETE', `the body broke off inside the attachment: ${error.message}`));
    }
    this.current = undefined;
    this.fullSink = undefined;
    this.handlers.onError(error);
  }

  private partStart(headers: PartHeaders): void {
    const contentId = headers['content-id'];
    if (isJson(headers)) {
      this.current = { kind: 'json', chunks: [], size: 0, overflow: false, headers };
    } else if (contentId) {
      // §1.5.1: the attachment's consumer may start before its last byte (Speak plays as it streams).
      const id = contentId.replace(/^<(.*)>$/, '$1');
      this.current = { kind: 'attachment', sink: this.store.receive(id), size: 0, overflow: false };
      this.handlers.onPart({ kind: 'attachment', contentId: id, headers, open: () => this.store.open(id) });
    } else {
      this.current = { kind: 'other', size: 0, headers };
    }
  }

  private partData(chunk: Buffer): void {
    const cur = this.current;
    if (!cur) return;
    cur.size += chunk.length;
    if (cur.kind === 'json') {
      if (cur.overflow) return;
      if (cur.size > this.maxJson) {
        cur.overflow = true;
        cur.chunks = [];
        return;
      }
      cur.chunks.push(chunk);
    } else if (cur.kind === 'attachment') {
      if (cur.overflow) return;
      if (cur.size > this.maxAttachment) {
        cur.overflow = true;
        cur.sink.fail(new AttachmentError('ATTACHMENT_TOO_LARGE', `attachment over ${this.maxAttachment} bytes`));
        return;
      }
      if (!cur.sink.write(chunk)) this.fullSink = cur.sink;
    }
  }

  private partEnd(): void {
    const cur = this.current;
    this.current = undefined;
    if (!cur) return;
    if (cur.kind === 'attachment') {
      if (!cur.overflow) cur.sink.end();
      // Nothing more goes to it, so a full consumer no longer needs the source to wait.
      if (this.fullSink === cur.sink) this.fullSink = undefined;
      return;
    }
    if (cur.kind === 'other') {
      this.handlers.onPart({ kind: 'skipped', bytes: cur.size, headers: cur.headers });
      return;
    }
    if (cur.overflow) {
      this.handlers.onPart({
        kind: 'skipped',
        bytes: cur.size,
        headers: cur.headers,
        error: new MultipartError('PART_TOO_LARGE', `a JSON part of ${cur.size} bytes is over the ${this.maxJson} byte limit`),
      });
      return;
    }
    const text = Buffer.concat(cur.chunks, cur.size).toString('utf8');
    this.handlers.onPart(this.jsonPart(text, cur.headers));
  }

  private jsonPart(text: string, headers: PartHeaders): AvsPart {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      // §2.2: not JSON → UNEXPECTED_INFORMATION_RECEIVED with the raw text.
      return { kind: 'directive', text, headers, result: { kind: 'invalid', error: ruleError('$', `not JSON: ${(e as Error).message}`) } };
    }
    if (classifyMessage(doc) === 'exception') return { kind: 'exception', text, headers, result: decodeExceptionBody(doc) };
    return { kind: 'directive', text, headers, result: decodeDirective(doc, { lenient: this.options.lenient }) };
  }
}

/**
 * Reads an AVS multipart body from a stream, as an Observable of parts in wire order. Completes
 * at the close delimiter; errors with a MultipartError if the body is malformed, breaks off, or
 * the stream ends first (a downchannel never closes, so its end is always an error). Cold: each
 * subscription reads the source, so subscribe once. Unsubscribing stops reading but leaves the
 * source to its owner.
 */
export function readMultipart(source: Readable, boundary: string, options: ReaderOptions = {}): Observable<AvsPart> {
  return new Observable<AvsPart>((subscriber) => {
    let done = false;
    const reader = new AvsPartReader(
      boundary,
      {
        onPart: (p) => subscriber.next(p),
        onClose: () => {
          done = true;
          detach();
          source.resume(); // let the epilogue drain so the stream can finish
          subscriber.complete();
        },
        onError: (e) => {
          done = true;
          detach();
          subscriber.error(e);
        },
      },
      options,
    );
    const onData = (chunk: Buffer | string) => {
      if (done) return;
      if (!reader.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) {
        source.pause();
        reader.onDemand(() => {
          if (!done) source.resume();
        });
      }
    };
    const onEnd = () => reader.end();
    // Stays attached after the body is done: a late stream error must never go unhandled.
    const onError = (e: Error) => {
      if (!done) reader.abort(`the stream failed: ${e.message}`);
    };
    const onClose = () => {
      if (!done) reader.abort('the stream closed before the body ended');
    };
    const detach = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('close', onClose);
    };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    source.on('close', onClose);
    return () => {
      if (!done) {
        done = true;
        detach();
        reader.abort('the reader was unsubscribed');
      }
    };
  });
}

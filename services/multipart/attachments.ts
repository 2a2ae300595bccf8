// Binary attachments of AVS multipart bodies, by Content-ID (PROTOCOL.md §1.5.1).
//
// An attachment may arrive before or after the directive that names it (`cid:…`), so a consumer
// can `open` one that has not arrived yet and gets its bytes as they come. Memory stays bounded:
// an opened attachment flows with backpressure (never held whole); one nobody opened is buffered
// only up to a limit and for a while, then dropped, so it never stalls the parts after it.
import { Readable } from 'node:stream';
import { contentIdOf } from '../../machines/envelope/primitives';

export type AttachmentErrorCode =
  | 'ATTACHMENT_MISSING' // opened, but never arrived in time
  | 'ATTACHMENT_DISCARDED' // arrived, nobody opened it within the limits, so it was dropped
  | 'ATTACHMENT_ALREADY_OPENED' // a second consumer for the same attachment
  | 'ATTACHMENT_INCOMPLETE' // the body broke off inside the attachment
  | 'ATTACHMENT_TOO_LARGE'; // larger than the reader's limit

export class AttachmentError extends Error {
  constructor(
    readonly code: AttachmentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AttachmentError';
  }
}

export interface AttachmentStoreOptions {
  /** Bytes buffered for an attachment nobody has opened yet; beyond this it is dropped. */
  readonly maxUnclaimedBytes?: number;
  /** How long a received attachment waits for a consumer before it is dropped. */
  readonly unclaimedTtlMs?: number;
  /** How long an opened attachment may take to start arriving. */
  readonly missingTimeoutMs?: number;
}

/** Where the reader writes one attachment's bytes. */
export interface AttachmentSink {
  /** False: the consumer is full; wait for `onDemand` before writing more. */
  write(chunk: Buffer): boolean;
  end(): void;
  fail(error: AttachmentError): void;
  /** Called when a consumer that was full wants more. */
  onDemand(callback: () => void): void;
}

/** The key of a Content-ID or `cid:` URL: brackets and scheme stripped, case folded (RFC 2392). */
export function attachmentKey(contentIdOrCidUrl: string): string {
  let id = contentIdOrCidUrl.trim();
  if (/^cid:/i.test(id)) id = contentIdOf(id);
  if (id.startsWith('<') && id.endsWith('>')) id = id.slice(1, -1);
  return id.toLowerCase();
}

class AttachmentStream extends Readable {
  demand: (() => void) | undefined;
  constructor() {
    super();
    // A consumer that gives up while the writer waits for it must not stall the writer.
    this.once('close', () => this._read());
  }
  override _read(): void {
    const d = this.demand;
    this.demand = undefined;
    d?.();
  }
}

type Status = 'expected' | 'receiving' | 'complete' | 'discarded';

interface Entry {
  readonly key: string;
  status: Status;
  stream: AttachmentStream;
  opened: boolean;
  /** Set when the entry failed before anyone opened it: `open` reports it. */
  failure?: AttachmentError;
  timer?: NodeJS.Timeout;
}

const erroredStream = (error: Error): Readable => {
  const r = new Readable({ read() {} });
  process.nextTick(() => r.destroy(error));
  return r;
};

export class AttachmentStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxUnclaimedBytes: number;
  private readonly unclaimedTtlMs: number;
  private readonly missingTimeoutMs: number;
  private closed = false;

  constructor(options: AttachmentStoreOptions = {}) {
    this.maxUnclaimedBytes = options.maxUnclaimedBytes ?? 8 * 1024 * 1024;
    this.unclaimedTtlMs = options.unclaimedTtlMs ?? 60_000;
    this.missingTimeoutMs = options.missingTimeoutMs ?? 30_000;
  }

  /** Attachments currently held (arriving, buffered or awaited). */
  get size(): number {
    return this.entries.size;
  }

  /** Whether an attachment with this id is known (arrived, arriving, or awaited). */
  has(contentIdOrCidUrl: string): boolean {
    return this.entries.has(attachmentKey(contentIdOrCidUrl));
  }

  /**
   * The bytes of an attachment, as a stream, whether it has arrived yet or not. Errors with an
   * AttachmentError when it never comes, was dropped, or was already opened by someone else.
   */
  open(contentIdOrCidUrl: string): Readable {
    const key = attachmentKey(contentIdOrCidUrl);
    if (this.closed) return erroredStream(new AttachmentError('ATTACHMENT_MISSING', `attachment ${key}: the store is closed`));
    let entry = this.entries.get(key);
    if (entry?.failure) {
      this.entries.delete(key);
      return erroredStream(entry.failure);
    }
    if (entry?.opened) {
      return erroredStream(new AttachmentError('ATTACHMENT_ALREADY_OPENED', `attachment ${key} is already being read`));
    }
    if (!entry) {
      entry = this.newEntry(key, 'expected');
      this.arm(entry, this.missingTimeoutMs, () =>
        this.failEntry(entry as Entry, new AttachmentError('ATTACHMENT_MISSING', `attachment ${key} did not arrive within ${this.missingTimeoutMs} ms`)),
      );
    } else if (entry.timer) {
      clearTimeout(entry.timer); // it was waiting for a consumer: no longer
      entry.timer = undefined;
    }
    entry.opened = true;
    const opened = entry;
    opened.stream.once('close', () => {
      if (this.entries.get(key) === opened) this.entries.delete(key);
      if (opened.timer) clearTimeout(opened.timer);
    });
    // Bytes buffered before the consumer came may already exceed the high-water mark: the
    // writer was told to go on (nobody to wait for); from here it waits for this consumer.
    return opened.stream;
  }

  /** Called by the reader when an attachment part starts. */
  receive(contentId: string): AttachmentSink {
    const key = attachmentKey(contentId);
    let entry = this.entries.get(key);
    if (!entry || entry.status !== 'expected') {
      // A new attachment, or a second part with an id already used: the newer one wins.
      if (entry) this.drop(entry);
      entry = this.newEntry(key, 'receiving');
    } else {
      entry.status = 'receiving';
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = undefined;
    }
    return this.sinkFor(entry);
  }

  /** Drops everything; awaited attachments fail. */
  close(): void {
    this.closed = true;
    for (const entry of [...this.entries.values()]) {
      if (entry.status === 'complete' && entry.opened) continue; // its consumer reads what is buffered
      if (entry.opened && entry.status !== 'complete') {
        this.failEntry(entry, new AttachmentError('ATTACHMENT_MISSING', `attachment ${entry.key}: the store was closed`));
      } else {
        this.drop(entry);
      }
    }
  }

  private newEntry(key: string, status: Status): Entry {
    const entry: Entry = { key, status, stream: new AttachmentStream(), opened: false };
    this.entries.set(key, entry);
    return entry;
  }

  private arm(entry: Entry, ms: number, fire: () => void): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = setTimeout(fire, ms);
    entry.timer.unref();
  }

  /** Fails an entry: its consumer (if any) gets the error; otherwise a later `open` does. */
  private failEntry(entry: Entry, error: AttachmentError): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.status = 'discarded';
    if (entry.opened) {
      this.entries.delete(entry.key);
      entry.stream.destroy(error);
    } else {
      entry.stream.destroy(); // frees what was buffered; nobody listens for errors yet
      entry.failure = error;
      // Remember the failure for a while so a late `open` says why; then forget it.
      this.arm(entry, this.unclaimedTtlMs, () => {
        if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      });
    }
  }

  private drop(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.status = 'discarded';
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    entry.stream.destroy();
  }

  private sinkFor(entry: Entry): AttachmentSink {
    const store = this;
    return {
      write(chunk) {
        if (entry.status !== 'receiving' || entry.stream.destroyed) return true; // dropped: drain
        const more = entry.stream.push(chunk);
        if (entry.opened) return more;
        if (entry.stream.readableLength > store.maxUnclaimedBytes) {
          store.failEntry(
            entry,
            new AttachmentError(
              'ATTACHMENT_DISCARDED',
              `attachment ${entry.key} was dropped: over ${store.maxUnclaimedBytes} bytes arrived before anyone opened it`,
            ),
          );
        }
        return true;
      },
      end() {
        if (entry.status !== 'receiving') return;
        entry.status = 'complete';
        entry.stream.push(null);
        if (!entry.opened) {
          store.arm(entry, store.unclaimedTtlMs, () =>
            store.failEntry(
              entry,
              new AttachmentError('ATTACHMENT_DISCARDED', `attachment ${entry.key} was dropped: nobody opened it within ${store.unclaimedTtlMs} ms`),
            ),
          );
        }
      },
      fail(error) {
        if (entry.status === 'receiving') store.failEntry(entry, error);
      },
      onDemand(callback) {
        if (entry.stream.destroyed) return callback();
        entry.stream.demand = callback;
      },
    };
  }
}

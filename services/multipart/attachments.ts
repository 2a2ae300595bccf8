// Binary attachments of AVS multipart bodies, by Content-ID (PROTOCOL.md §1.5.1).
//
// An attachment may arrive before or after the directive that names it (`cid:…`), so a consumer
// can `open` one that has not arrived yet and gets its bytes as they come. Memory stays bounded:
// an opened attachment reads ahead a little, then flows with backpressure (never held whole); one
// nobody opened is buffered only up to per-attachment and store-wide limits and for a while, then
// dropped, so it never stalls the parts after it.
import { Readable } from 'node:stream';
import { contentIdOf } from '../../machines/envelope/primitives';

export type AttachmentErrorCode =
  | 'ATTACHMENT_MISSING' // opened, but never arrived in time (or the store closed first)
  | 'ATTACHMENT_DISCARDED' // arrived, nobody opened it within the limits, so it was dropped
  | 'ATTACHMENT_ALREADY_OPENED' // a second consumer for the same attachment
  | 'ATTACHMENT_REPLACED' // another part with the same Content-ID came while this one arrived
  | 'ATTACHMENT_INCOMPLETE' // the body broke off inside the attachment
  | 'ATTACHMENT_TOO_LARGE'; // larger than the reader's limit

export class AttachmentError extends Error {
  constructor(
    readonly code: AttachmentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AttachmentError';
    // Format the stack now: until then V8 keeps the frames' closures (and what they hold, such
    // as buffered attachment bytes) alive for as long as the error lives.
    void this.stack;
  }
}

export interface AttachmentStoreOptions {
  /** Bytes buffered for one attachment nobody has opened yet; beyond this it is dropped. */
  readonly maxUnclaimedBytes?: number;
  /** Bytes buffered for all unopened attachments together; beyond this the oldest are dropped. */
  readonly maxUnclaimedTotalBytes?: number;
  /** Unopened attachments kept at once; beyond this the oldest are dropped. */
  readonly maxUnclaimedAttachments?: number;
  /** How long a received attachment waits for a consumer before it is dropped. */
  readonly unclaimedTtlMs?: number;
  /** How long an opened attachment may take to start arriving. */
  readonly missingTimeoutMs?: number;
  /**
   * How far an opened attachment may run ahead of its consumer before the reader waits for it.
   * A consumer that opened early but is not reading yet (a second Speak waiting for the first)
   * then does not hold up the rest of the body.
   */
  readonly readAheadBytes?: number;
}

/** Where the reader writes one attachment's bytes. */
export interface AttachmentSink {
  /** False: the consumer is full; wait for `onDemand` before writing more. */
  write(chunk: Buffer): boolean;
  end(): void;
  fail(error: AttachmentError): void;
  /** Calls back when the consumer that was full wants more (or is gone). */
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

type Status = 'expected' | 'receiving' | 'complete' | 'failed';

interface Entry {
  readonly key: string;
  status: Status;
  readonly stream: AttachmentStream;
  opened: boolean;
  /** Bytes held for it while nobody has opened it (they count against the store's budget). */
  unclaimed: number;
  timer?: NodeJS.Timeout;
}

/** Why an attachment nobody had opened was dropped, kept a while for a late `open`. */
interface Tombstone {
  readonly error: AttachmentError;
  readonly timer: NodeJS.Timeout;
}

const erroredStream = (error: Error): Readable => {
  const r = new Readable({ read() {} });
  process.nextTick(() => r.destroy(error));
  return r;
};

const DRAIN: AttachmentSink = { write: () => true, end() {}, fail() {}, onDemand: (callback) => callback() };

export class AttachmentStore {
  private readonly entries = new Map<string, Entry>();
  private readonly tombstones = new Map<string, Tombstone>();
  private readonly maxUnclaimedBytes: number;
  private readonly maxUnclaimedTotalBytes: number;
  private readonly maxUnclaimedAttachments: number;
  private readonly unclaimedTtlMs: number;
  private readonly missingTimeoutMs: number;
  private readonly readAheadBytes: number;
  private unclaimedTotal = 0;
  private closed = false;

  constructor(options: AttachmentStoreOptions = {}) {
    this.maxUnclaimedBytes = options.maxUnclaimedBytes ?? 8 * 1024 * 1024;
    this.maxUnclaimedTotalBytes = options.maxUnclaimedTotalBytes ?? 32 * 1024 * 1024;
    this.maxUnclaimedAttachments = options.maxUnclaimedAttachments ?? 100;
    this.unclaimedTtlMs = options.unclaimedTtlMs ?? 60_000;
    this.missingTimeoutMs = options.missingTimeoutMs ?? 30_000;
    this.readAheadBytes = options.readAheadBytes ?? 1024 * 1024;
  }

  /** Attachments currently held (arriving, buffered or awaited). */
  get size(): number {
    return this.entries.size;
  }

  /** Bytes held for attachments nobody has opened. */
  get unclaimedBytes(): number {
    return this.unclaimedTotal;
  }

  /** Whether an attachment with this id is known (arrived, arriving, or awaited). */
  has(contentIdOrCidUrl: string): boolean {
    return this.entries.has(attachmentKey(contentIdOrCidUrl));
  }

  /**
   * The bytes of an attachment, as a stream, whether it has arrived yet or not. Errors with an
   * AttachmentError when it never comes, was dropped, or was already opened by someone else.
   * The caller must listen for 'error'.
   */
  open(contentIdOrCidUrl: string): Readable {
    const key = attachmentKey(contentIdOrCidUrl);
    if (this.closed) return erroredStream(new AttachmentError('ATTACHMENT_MISSING', `attachment ${key}: the store is closed`));
    const tombstone = this.tombstones.get(key);
    if (tombstone) {
      this.forget(key);
      return erroredStream(tombstone.error);
    }
    let entry = this.entries.get(key);
    if (entry?.opened) {
      return erroredStream(new AttachmentError('ATTACHMENT_ALREADY_OPENED', `attachment ${key} is already being read`));
    }
    if (!entry) {
      const awaited = this.newEntry(key, 'expected');
      this.arm(awaited, this.missingTimeoutMs, () =>
        this.fail(awaited, new AttachmentError('ATTACHMENT_MISSING', `attachment ${key} did not arrive within ${this.missingTimeoutMs} ms`)),
      );
      entry = awaited;
    } else {
      this.disarm(entry); // it was waiting for a consumer: no longer
      this.unclaimedTotal -= entry.unclaimed;
      entry.unclaimed = 0;
    }
    entry.opened = true;
    const opened = entry;
    opened.stream.once('close', () => {
      this.disarm(opened);
      if (this.entries.get(key) === opened) this.entries.delete(key);
    });
    return opened.stream;
  }

  /** Called by the reader when an attachment part starts. */
  receive(contentId: string): AttachmentSink {
    if (this.closed) return DRAIN;
    const key = attachmentKey(contentId);
    this.forget(key);
    const existing = this.entries.get(key);
    if (existing?.status === 'expected') {
      existing.status = 'receiving';
      this.disarm(existing);
      return this.sinkFor(existing);
    }
    if (existing) {
      // A second part with a Content-ID already in use: the newer one wins.
      if (existing.opened && existing.status === 'receiving') {
        this.fail(existing, new AttachmentError('ATTACHMENT_REPLACED', `attachment ${key} was replaced by a newer part with the same Content-ID`));
      } else if (existing.opened) {
        this.entries.delete(key); // complete: its consumer reads on undisturbed
      } else {
        this.remove(existing);
      }
    }
    const entry = this.newEntry(key, 'receiving');
    this.evictBeyondCount();
    return this.sinkFor(entry);
  }

  /** Drops everything; awaited or arriving attachments fail; complete opened ones read on. */
  close(): void {
    this.closed = true;
    for (const key of [...this.tombstones.keys()]) this.forget(key);
    for (const entry of [...this.entries.values()]) {
      if (entry.opened && entry.status === 'complete') {
        this.entries.delete(entry.key);
      } else if (entry.opened) {
        this.fail(entry, new AttachmentError('ATTACHMENT_MISSING', `attachment ${entry.key}: the store was closed`));
      } else {
        this.remove(entry);
      }
    }
  }

  private newEntry(key: string, status: Status): Entry {
    const entry: Entry = { key, status, stream: new AttachmentStream(), opened: false, unclaimed: 0 };
    this.entries.set(key, entry);
    return entry;
  }

  private arm(entry: Entry, ms: number, fire: () => void): void {
    this.disarm(entry);
    entry.timer = setTimeout(fire, ms);
    entry.timer.unref();
  }

  private disarm(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  /** Forgets an entry that nobody is reading, freeing what it buffered. */
  private remove(entry: Entry): void {
    this.disarm(entry);
    this.unclaimedTotal -= entry.unclaimed;
    entry.unclaimed = 0;
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    if (!entry.opened) entry.stream.destroy();
  }

  /** Fails an entry: its consumer (if any) gets the error; otherwise a later `open` does. */
  private fail(entry: Entry, error: AttachmentError): void {
    this.disarm(entry);
    entry.status = 'failed';
    this.unclaimedTotal -= entry.unclaimed;
    entry.unclaimed = 0;
    if (entry.opened) {
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      entry.stream.destroy(error);
      return;
    }
    // Nobody listens for errors yet: free what was buffered, and remember for a while why it
    // is gone so a late `open` can say so.
    this.remove(entry);
    const key = entry.key; // the timer must not hold the entry (and its buffered bytes) alive
    const timer = setTimeout(() => this.forget(key), this.unclaimedTtlMs);
    timer.unref();
    this.tombstones.set(key, { error, timer });
    for (const key of this.tombstones.keys()) {
      if (this.tombstones.size <= this.maxUnclaimedAttachments) break;
      this.forget(key);
    }
  }

  private forget(key: string): void {
    const t = this.tombstones.get(key);
    if (!t) return;
    clearTimeout(t.timer);
    this.tombstones.delete(key);
  }

  /** Keeps the number of unopened attachments bounded: the oldest go first. */
  private evictBeyondCount(): void {
    let unopened = 0;
    for (const e of this.entries.values()) if (!e.opened) unopened++;
    for (const e of [...this.entries.values()]) {
      if (unopened <= this.maxUnclaimedAttachments) return;
      if (e.opened) continue;
      this.remove(e);
      unopened--;
    }
  }

  /** Keeps the bytes of unopened attachments within the store's budget: the oldest go first. */
  private enforceBudget(): void {
    for (const e of [...this.entries.values()]) {
      if (this.unclaimedTotal <= this.maxUnclaimedTotalBytes) return;
      if (e.opened || e.unclaimed === 0) continue;
      this.fail(
        e,
        new AttachmentError('ATTACHMENT_DISCARDED', `attachment ${e.key} was dropped: unopened attachments held over ${this.maxUnclaimedTotalBytes} bytes`),
      );
    }
  }

  private sinkFor(entry: Entry): AttachmentSink {
    const store = this;
    return {
      write(chunk) {
        if (entry.status !== 'receiving' || entry.stream.destroyed) return true; // dropped: drain
        entry.stream.push(chunk);
        if (entry.opened) return entry.stream.readableLength < store.readAheadBytes;
        entry.unclaimed += chunk.length;
        store.unclaimedTotal += chunk.length;
        if (entry.unclaimed > store.maxUnclaimedBytes) {
          store.fail(
            entry,
            new AttachmentError(
              'ATTACHMENT_DISCARDED',
              `attachment ${entry.key} was dropped: over ${store.maxUnclaimedBytes} bytes arrived before anyone opened it`,
            ),
          );
        }
        store.enforceBudget();
        return true;
      },
      end() {
        if (entry.status !== 'receiving') return;
        entry.status = 'complete';
        entry.stream.push(null);
        if (!entry.opened) {
          store.arm(entry, store.unclaimedTtlMs, () =>
            store.fail(
              entry,
              new AttachmentError('ATTACHMENT_DISCARDED', `attachment ${entry.key} was dropped: nobody opened it within ${store.unclaimedTtlMs} ms`),
            ),
          );
        }
      },
      fail(error) {
        if (entry.status === 'receiving') store.fail(entry, error);
      },
      onDemand(callback) {
        if (entry.stream.destroyed || entry.status !== 'receiving') return callback();
        entry.stream.demand = callback;
      },
    };
  }
}

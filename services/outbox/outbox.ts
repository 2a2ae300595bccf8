// The ordered queue of events waiting to go to AVS (PROTOCOL.md §1.7). Durable entries — the
// events that must reach AVS (§7.5 and machines/connection/policy) — survive a lost connection;
// the others are dropped with it, as the SDK does. This one lives in memory; the SQLite-backed
// one (same interface) comes with the runtime core.

export interface OutboxEntry {
  readonly id: number;
  /** `Namespace.Name`, for logs and reports. */
  readonly name: string;
  /** The §2.1 metadata document. */
  readonly message: object;
  /** Kept across a lost connection (and, in the durable outbox, across restarts). */
  readonly durable: boolean;
}

export interface Outbox {
  /**
   * Appends; undefined when the outbox is full (the caller reports it). `persist` (default: as
   * `durable`): written to disk too, so it survives a restart (the SQLite outbox).
   */
  add(name: string, message: object, durable: boolean, persist?: boolean): OutboxEntry | undefined;
  /** Removes and returns the waiting entries named `name`, except the one with id `except` (being sent). */
  supersede(name: string, except?: number): OutboxEntry[];
  /** The oldest entry, next to send. */
  peek(): OutboxEntry | undefined;
  /** The newest entry. */
  tail(): OutboxEntry | undefined;
  /** Whether the entry is still waiting. */
  has(id: number): boolean;
  /** Removes an entry AVS accepted (or refused for good). */
  remove(id: number): void;
  /** The connection is lost: drops the entries that need not survive it, and returns them. */
  dropTransient(): OutboxEntry[];
  readonly size: number;
}

/** The ordered queue both outboxes keep in memory; they differ in how an entry is added and removed. */
export abstract class QueuedOutbox implements Outbox {
  protected entries: OutboxEntry[] = [];

  get size(): number {
    return this.entries.length;
  }

  abstract add(name: string, message: object, durable: boolean, persist?: boolean): OutboxEntry | undefined;

  supersede(name: string, except?: number): OutboxEntry[] {
    const gone = this.entries.filter((e) => e.name === name && e.id !== except);
    if (gone.length > 0) for (const e of gone) this.remove(e.id);
    return gone;
  }

  peek(): OutboxEntry | undefined {
    return this.entries[0];
  }

  tail(): OutboxEntry | undefined {
    return this.entries.at(-1);
  }

  has(id: number): boolean {
    return this.entries.some((e) => e.id === id);
  }

  remove(id: number): void {
    this.entries = this.entries.filter((e) => e.id !== id);
  }

  dropTransient(): OutboxEntry[] {
    const dropped = this.entries.filter((e) => !e.durable);
    this.entries = this.entries.filter((e) => e.durable);
    return dropped;
  }
}

export class MemoryOutbox extends QueuedOutbox {
  private nextId = 1;

  /** `limit`: entries held at most (the SDK's certified sender holds a bounded queue too). */
  constructor(private readonly limit = 100) {
    super();
  }

  add(name: string, message: object, durable: boolean): OutboxEntry | undefined {
    if (this.entries.length >= this.limit) return undefined;
    const entry: OutboxEntry = { id: this.nextId++, name, message, durable };
    this.entries.push(entry);
    return entry;
  }
}

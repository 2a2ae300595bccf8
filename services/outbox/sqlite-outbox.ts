// The durable outbox (PROTOCOL.md §1.7, §7.5 "certified sender"): an event that must reach AVS is
// written to the device database before it is sent, removed once AVS accepted it, and after a
// restart the ones left are sent first, in order. Events that need not survive stay in memory.
import type { DeviceDatabase } from '../store/database';
import { QueuedOutbox, type OutboxEntry } from './outbox';

/** The SDK's certified sender: warn beyond 25 queued messages, refuse beyond 50. */
export const OUTBOX_WARN_LIMIT = 25;
export const OUTBOX_HARD_LIMIT = 50;

export interface SqliteOutboxOptions {
  readonly warnLimit?: number;
  readonly limit?: number;
  /** Told when the outbox passes its warning size, and when it is full and refuses an event. */
  readonly onWarning?: (message: string) => void;
  readonly now?: () => number;
}

export class SqliteOutbox extends QueuedOutbox {
  private nextTransientId = -1;
  private readonly insert;
  private readonly delete;
  private readonly limit: number;
  private readonly warnLimit: number;
  private readonly now: () => number;

  constructor(db: DeviceDatabase, private readonly options: SqliteOutboxOptions = {}) {
    super();
    this.limit = options.limit ?? OUTBOX_HARD_LIMIT;
    this.warnLimit = options.warnLimit ?? OUTBOX_WARN_LIMIT;
    this.now = options.now ?? Date.now;
    this.insert = db.prepare<[string, string, number]>('INSERT INTO outbox (name, message, created_at) VALUES (?, ?, ?)');
    this.delete = db.prepare<[number]>('DELETE FROM outbox WHERE id = ?');
    // What a previous run left unsent goes first, in the order it was written.
    this.entries = db
      .prepare<[], { id: number; name: string; message: string }>('SELECT id, name, message FROM outbox ORDER BY id')
      .all()
      .map((row) => ({ id: row.id, name: row.name, message: JSON.parse(row.message) as object, durable: true }));
  }

  add(name: string, message: object, durable: boolean, persist = durable): OutboxEntry | undefined {
    if (this.entries.length >= this.limit) {
      this.options.onWarning?.(`outbox full (${this.limit} events waiting): ${name} was not queued`);
      return undefined;
    }
    // Durable and persisted: on disk (synced) before anyone may send it; the row id is its id.
    // The others get negative ids and live in memory only.
    const id = durable && persist ? Number(this.insert.run(name, JSON.stringify(message), this.now()).lastInsertRowid) : this.nextTransientId--;
    const entry: OutboxEntry = { id, name, message, durable };
    this.entries.push(entry);
    if (this.entries.length === this.warnLimit + 1) this.options.onWarning?.(`outbox holds more than ${this.warnLimit} events`);
    return entry;
  }

  override remove(id: number): void {
    const entry = this.entries.find((e) => e.id === id);
    if (!entry) return;
    if (entry.durable && id > 0) this.delete.run(id);
    super.remove(id);
  }
}

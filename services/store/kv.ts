// Small key-value stores: what the transport remembers (the endpoint a SetEndpoint chose, the
// capabilities last accepted, …) — in the device database, or in memory for tests.
import type { DeviceDatabase } from './database';

export interface KeyValueStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export class MemoryKeyValueStore implements KeyValueStore {
  private readonly values = new Map<string, string>();
  get(key: string): string | undefined {
    return this.values.get(key);
  }
  set(key: string, value: string): void {
    this.values.set(key, value);
  }
}

export class SqliteKeyValueStore implements KeyValueStore {
  private readonly getStmt;
  private readonly setStmt;

  constructor(db: DeviceDatabase) {
    this.getStmt = db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?');
    this.setStmt = db.prepare<[string, string]>('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  }

  get(key: string): string | undefined {
    return this.getStmt.get(key)?.value;
  }

  set(key: string, value: string): void {
    this.setStmt.run(key, value);
  }
}

// A small key-value store in the device database (the persisted endpoint, the last published
// capabilities, …); the KeyValueStore the transport asks for.
import type { KeyValueStore } from '../transport/capabilities';
import type { DeviceDatabase } from './database';

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

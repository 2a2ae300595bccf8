// The device's one SQLite database (DESIGN.md "Persistence"): everything that must survive a
// power cut — the outbox, the endpoint, alerts, tokens, settings and volume. Writes are
// transactional and synced (synchronous=FULL with WAL); the file is readable by its owner only.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type DeviceDatabase = Database.Database;

/** Each step brings the schema from version i to i + 1 (PRAGMA user_version). */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL,
     message TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );`,
  // §7: alerts go off offline and after a reboot, so they live here. scheduled_time is the string as
  // received because AlertsState (§7.2) echoes it back; scheduled_at is what the clock compares;
  // active marks the one sounding when the device went down, so boot can re-arm it (§7.6).
  `CREATE TABLE alerts (
     token TEXT PRIMARY KEY,
     type TEXT NOT NULL,
     scheduled_time TEXT NOT NULL,
     scheduled_at INTEGER NOT NULL,
     details TEXT NOT NULL,
     active INTEGER NOT NULL DEFAULT 0
   );`,
];

/** Opens (creating if needed) the database at `path` (`:memory:` for tests) and brings its schema up to date. */
export function openDatabase(path: string): DeviceDatabase {
  const fresh = path !== ':memory:' && !existsSync(path);
  if (fresh) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  if (fresh) chmodSync(path, 0o600);
  db.pragma('journal_mode = WAL');
  // FULL: a transaction that returned is on disk, also across a power cut (NORMAL may lose the last ones in WAL mode).
  db.pragma('synchronous = FULL');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}

// The device's one SQLite database (DESIGN.md "Persistence"): everything that must survive a
// power cut — the outbox, the endpoint, alerts, tokens, settings and volume. Writes are
// transactional and synced (synchronous=FULL with WAL); the file is readable by its owner only.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
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

/**
 * The file and its WAL and shared-memory companions (which hold recent writes, the refresh token
 * among them) readable by the owner only. A new file is created 0600 before SQLite opens it, so it
 * is never readable by others, whatever the umask, even for a moment; SQLite gives the companions
 * the database file's mode. A file found readable or writable by others (copied, or made by other
 * tools) is narrowed to 0600.
 */
function ownerOnly(path: string): void {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  }
}

/** Opens (creating if needed) the database at `path` (`:memory:` for tests) and brings its schema up to date. */
export function openDatabase(path: string): DeviceDatabase {
  if (path !== ':memory:') ownerOnly(path);
  const db = new Database(path);
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

// The alert store (§7.3 store before SetAlertSucceeded, §7.6 reload and re-arm on boot), in
// SQLite and in memory, and the migration that adds its table to an existing device database.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryAlertStore, SqliteAlertStore, type AlertStore, type StoredAlert } from '../../../services/store/alert-store';
import { openDatabase } from '../../../services/store/database';
import { SqliteKeyValueStore } from '../../../services/store/kv';

const alert = (token: string, scheduledTime: string, more: Partial<StoredAlert> = {}): StoredAlert => ({
  token,
  type: 'TIMER',
  scheduledTime,
  scheduledAt: Date.parse(scheduledTime.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')),
  details: {},
  active: false,
  ...more,
});

const stores: ReadonlyArray<readonly [string, () => AlertStore]> = [
  ['SqliteAlertStore', () => new SqliteAlertStore(openDatabase(':memory:'))],
  ['MemoryAlertStore', () => new MemoryAlertStore()],
];

describe.each(stores)('%s', (_name, make) => {
  it('gives back what was put, details and the time string unchanged', () => {
    const store = make();
    const a = alert('a-7', '2024-03-02T06:45:00+0000', {
      type: 'ALARM',
      details: { assets: [{ assetId: 'x', url: 'https://a.example/x.mp3' }], assetPlayOrder: ['x', 'x'], loopCount: 3, loopPauseInMilliSeconds: 500 },
    });
    store.put(a);
    expect(store.all()).toEqual([a]);
    expect(store.all()[0].scheduledAt).toBe(Date.UTC(2024, 2, 2, 6, 45));
  });

  it('replaces the alert with the same token instead of adding a second (§7.3)', () => {
    const store = make();
    store.put(alert('t-1', '2024-03-01T18:30:00+0000'));
    store.put(alert('t-1', '2024-03-01T18:40:00+0000', { type: 'REMINDER', details: { loopCount: 1 } }));
    expect(store.all()).toEqual([alert('t-1', '2024-03-01T18:40:00+0000', { type: 'REMINDER', details: { loopCount: 1 } })]);
  });

  it('deletes by token and says whether there was one', () => {
    const store = make();
    store.put(alert('t-1', '2024-03-01T18:30:00+0000'));
    store.put(alert('t-2', '2024-03-01T18:31:00+0000'));
    expect(store.delete('t-1')).toBe(true);
    expect(store.delete('t-1')).toBe(false);
    expect(store.delete('unknown')).toBe(false);
    expect(store.all().map((a) => a.token)).toEqual(['t-2']);
  });

  it('lists alerts soonest first, same times by token', () => {
    const store = make();
    store.put(alert('c', '2024-03-01T18:30:00+0000'));
    store.put(alert('late', '2024-03-02T06:45:00+0000'));
    store.put(alert('a', '2024-03-01T18:30:00+0000'));
    store.put(alert('early', '2024-03-01T08:00:00+0000'));
    // Same instant written in another offset: ordered by the instant, not the string.
    store.put(alert('b', '2024-03-01T19:30:00+0100'));
    expect(store.all().map((a) => a.token)).toEqual(['early', 'a', 'b', 'c', 'late']);
  });

  it('marks an alert active and inactive, and ignores an unknown token', () => {
    const store = make();
    store.put(alert('t-1', '2024-03-01T18:30:00+0000'));
    store.setActive('t-1', true);
    expect(store.all()[0].active).toBe(true);
    store.setActive('t-1', false);
    expect(store.all()[0].active).toBe(false);
    store.setActive('unknown', true);
    expect(store.all()).toHaveLength(1);
  });

  it('is not changed by the caller mutating an alert after putting it', () => {
    const store = make();
    const details: Record<string, unknown> = { loopCount: 2 };
    store.put(alert('t-1', '2024-03-01T18:30:00+0000', { details }));
    details.loopCount = 9;
    expect(store.all()[0].details).toEqual({ loopCount: 2 });
  });
});

describe('SqliteAlertStore on disk', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'avs-alerts-'));
    path = join(dir, 'device.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps alerts and which one was sounding across a restart (§7.6), in an owner-only file', () => {
    const db = openDatabase(path);
    const store = new SqliteAlertStore(db);
    store.put(alert('t-1', '2024-03-01T18:30:00+0000', { details: { loopCount: 2 } }));
    store.put(alert('a-7', '2024-03-02T06:45:00+0000', { type: 'ALARM' }));
    store.put(alert('gone', '2024-03-03T06:45:00+0000'));
    store.setActive('t-1', true);
    store.delete('gone');
    db.close();

    const again = openDatabase(path);
    expect(new SqliteAlertStore(again).all()).toEqual([
      alert('t-1', '2024-03-01T18:30:00+0000', { details: { loopCount: 2 }, active: true }),
      alert('a-7', '2024-03-02T06:45:00+0000', { type: 'ALARM' }),
    ]);
    again.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('adds the alerts table to a database made before it, keeping what was there', () => {
    // A database as the first schema version left it: kv and outbox, user_version 1.
    const old = new Database(path);
    old.exec(`CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, message TEXT NOT NULL, created_at INTEGER NOT NULL);`);
    old.prepare('INSERT INTO kv (key, value) VALUES (?, ?)').run('avs.endpoint', 'https://x.example');
    old.pragma('user_version = 1');
    old.close();

    const db = openDatabase(path);
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(new SqliteKeyValueStore(db).get('avs.endpoint')).toBe('https://x.example');
    const store = new SqliteAlertStore(db);
    expect(store.all()).toEqual([]);
    store.put(alert('t-1', '2024-03-01T18:30:00+0000'));
    db.close();

    // Opening again runs no migration twice.
    const again = openDatabase(path);
    expect(again.pragma('user_version', { simple: true })).toBe(2);
    expect(new SqliteAlertStore(again).all().map((a) => a.token)).toEqual(['t-1']);
    again.close();
  });

  it('defaults a row written without active to not sounding', () => {
    const db = openDatabase(path);
    db.prepare("INSERT INTO alerts (token, type, scheduled_time, scheduled_at, details) VALUES ('t', 'TIMER', '2024-03-01T18:30:00+0000', 0, '{}')").run();
    expect(new SqliteAlertStore(db).all()[0].active).toBe(false);
    db.close();
  });
});

// The durable outbox (§1.7, §7.5): on disk before it is sent, in order after a restart, bounded.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEvent } from '../../../machines/catalog';
import { AvsConnection } from '../../../runtime/connection/avs-connection';
import { SqliteOutbox } from '../../../services/outbox/sqlite-outbox';
import { openDatabase } from '../../../services/store/database';
import { SqliteKeyValueStore } from '../../../services/store/kv';
import { StaticTokenSource } from '../../../services/transport';
import { FIXTURES } from '../../support/fixtures';
import { startSimulator } from '../../avs-cloud';

const alert = (token: string) => buildEvent('Alerts', 'AlertStarted', { token });

describe('SqliteOutbox', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'avs-db-'));
    path = join(dir, 'device.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a state report in memory only: held across a lost connection, not across a restart (§10.3, §1.6 step 5)', () => {
    const db = openDatabase(path);
    const outbox = new SqliteOutbox(db);
    outbox.add('Speaker.VolumeChanged', buildEvent('Speaker', 'VolumeChanged', { volume: 30, muted: false }), true, false);
    outbox.add('Alerts.AlertStarted', alert('a'), true);
    expect(outbox.dropTransient()).toEqual([]);
    expect(outbox.size).toBe(2);
    expect(outbox.supersede('Speaker.VolumeChanged').map((e) => e.name)).toEqual(['Speaker.VolumeChanged']);
    db.close();
    const again = new SqliteOutbox(openDatabase(path));
    expect(again.size).toBe(1);
    expect(again.peek()?.name).toBe('Alerts.AlertStarted');
  });

  it('keeps durable events across a reopen, in order, and forgets what was removed', () => {
    const db = openDatabase(path);
    const outbox = new SqliteOutbox(db);
    const a = outbox.add('Alerts.AlertStarted', alert('a'), true);
    outbox.add('SpeechSynthesizer.SpeechStarted', { event: 'transient' }, false);
    outbox.add('Alerts.AlertStarted', alert('b'), true);
    outbox.add('Alerts.AlertStarted', alert('c'), true);
    outbox.remove(a?.id ?? 0);
    db.close();

    const again = new SqliteOutbox(openDatabase(path));
    expect(again.size).toBe(2);
    const token = () => (again.peek()?.message as { event: { payload: { token: string } } }).event.payload.token;
    expect(token()).toBe('b');
    again.remove(again.peek()?.id ?? 0);
    expect(token()).toBe('c');
  });

  it('drops transient events with the connection, keeps the durable ones', () => {
    const outbox = new SqliteOutbox(openDatabase(':memory:'));
    outbox.add('Alerts.AlertStarted', alert('a'), true);
    outbox.add('SpeechSynthesizer.SpeechStarted', { event: 1 }, false);
    expect(outbox.dropTransient().map((e) => e.name)).toEqual(['SpeechSynthesizer.SpeechStarted']);
    expect(outbox.size).toBe(1);
  });

  it('warns beyond 25 events and refuses beyond 50, as the SDK certified sender does', () => {
    const warnings: string[] = [];
    const outbox = new SqliteOutbox(openDatabase(':memory:'), { onWarning: (w) => warnings.push(w) });
    for (let i = 0; i < 50; i++) expect(outbox.add('Alerts.AlertStarted', alert(`t${i}`), true)).toBeDefined();
    expect(warnings).toEqual(['outbox holds more than 25 events']);
    expect(outbox.add('Alerts.AlertStopped', alert('late'), true)).toBeUndefined();
    expect(warnings[1]).toBe('outbox full (50 events waiting): Alerts.AlertStopped was not queued');
  });

  it('is a file only its owner can read', () => {
    openDatabase(path).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('keeps key-value settings across a reopen', () => {
    new SqliteKeyValueStore(openDatabase(path)).set('avs.endpoint', 'https://x.example');
    expect(new SqliteKeyValueStore(openDatabase(path)).get('avs.endpoint')).toBe('https://x.example');
  });

  it('sends an event exactly once after the process was killed between writing and sending it', async () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(FIXTURES, 'scripts', 'outbox-kill.ts'), path, 'survivor'], {
      cwd: join(__dirname, '..', '..', '..'),
      encoding: 'utf8',
    });
    expect(child.signal).toBe('SIGKILL');
    const sim = await startSimulator({ h2c: true });
    const db = openDatabase(path);
    const outbox = new SqliteOutbox(db);
    expect(outbox.size).toBe(1);
    let sent: () => void = () => {};
    const accepted$ = new Promise<void>((r) => (sent = r));
    const connection = new AvsConnection({
      endpoint: sim.url,
      tokens: new StaticTokenSource(sim.defaultToken),
      context: () => [{ header: { namespace: 'Speaker', name: 'VolumeState' }, payload: { volume: 1, muted: false } }],
      outbox,
      store: new SqliteKeyValueStore(db),
      onReport: (r) => r.kind === 'sent' && sent(),
    });
    connection.start();
    await accepted$;
    await connection.stop();
    await sim.stop();
    const accepted = sim.records.filter((r) => r.kind === 'event' && r.status < 300 && (r.event as { event: { header: { name: string } } }).event.header.name === 'AlertStarted');
    expect(accepted).toHaveLength(1);
    // Removed from the database once AVS accepted it: a further restart sends nothing.
    db.close();
    expect(new SqliteOutbox(openDatabase(path)).size).toBe(0);
  });
});

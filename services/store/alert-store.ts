// The alerts the device holds (PROTOCOL.md §7): they must go off offline and after a reboot, so
// they are stored before SetAlertSucceeded is sent (§7.3) — in the device database, or in memory
// for tests.
import { AlertType } from '../../machines/alerts/messages';
import type { KeptAlert } from '../../machines/alerts/machine';
import type { DeviceDatabase } from './database';

/** An alert as the device keeps it: the Alerts machine's own shape (§7.2 scheduledTime as received, the same instant in ms, the other SetAlert fields, whether it was sounding). */
export type StoredAlert = KeptAlert;

export interface AlertStore {
  /** Every stored alert, soonest first (ties by token, so the order is stable). */
  all(): StoredAlert[];
  /** Inserts, or replaces the alert with the same token (§7.3: a second SetAlert updates it). */
  put(alert: StoredAlert): void;
  setActive(token: string, active: boolean): void;
  /** False when no alert had that token (§7.4: still a success for the caller). */
  delete(token: string): boolean;
}

const byTime = (a: StoredAlert, b: StoredAlert): number =>
  a.scheduledAt - b.scheduledAt || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0);

export class MemoryAlertStore implements AlertStore {
  private readonly alerts = new Map<string, StoredAlert>();

  all(): StoredAlert[] {
    return [...this.alerts.values()].sort(byTime);
  }

  put(alert: StoredAlert): void {
    // A copy, so a caller mutating its object later does not change what is "stored".
    this.alerts.set(alert.token, { ...alert, details: structuredClone(alert.details) });
  }

  setActive(token: string, active: boolean): void {
    const alert = this.alerts.get(token);
    if (alert) this.alerts.set(token, { ...alert, active });
  }

  delete(token: string): boolean {
    return this.alerts.delete(token);
  }
}

interface AlertRow {
  token: string;
  type: string;
  scheduled_time: string;
  scheduled_at: number;
  details: string;
  active: number;
}

export class SqliteAlertStore implements AlertStore {
  private readonly selectAll;
  private readonly upsert;
  private readonly updateActive;
  private readonly remove;
  private readonly putTx;

  constructor(db: DeviceDatabase) {
    this.selectAll = db.prepare<[], AlertRow>(
      'SELECT token, type, scheduled_time, scheduled_at, details, active FROM alerts ORDER BY scheduled_at, token',
    );
    this.upsert = db.prepare<[string, string, string, number, string, number]>(
      'INSERT OR REPLACE INTO alerts (token, type, scheduled_time, scheduled_at, details, active) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.updateActive = db.prepare<[number, string]>('UPDATE alerts SET active = ? WHERE token = ?');
    this.remove = db.prepare<[string]>('DELETE FROM alerts WHERE token = ?');
    // One transaction: with synchronous=FULL it is on disk when put returns, so SetAlertSucceeded may follow.
    this.putTx = db.transaction((alert: StoredAlert) => {
      this.upsert.run(alert.token, alert.type, alert.scheduledTime, alert.scheduledAt, JSON.stringify(alert.details), alert.active ? 1 : 0);
    });
  }

  all(): StoredAlert[] {
    return this.selectAll.all().map(fromRow);
  }

  put(alert: StoredAlert): void {
    this.putTx(alert);
  }

  setActive(token: string, active: boolean): void {
    this.updateActive.run(active ? 1 : 0, token);
  }

  delete(token: string): boolean {
    return this.remove.run(token).changes > 0;
  }
}

function fromRow(row: AlertRow): StoredAlert {
  const details: unknown = JSON.parse(row.details);
  return {
    token: row.token,
    // Written from a validated SetAlert; should a row still hold something else, it rings as an
    // ALARM (§7.3: the docs' rule for an unknown type) rather than being lost.
    type: AlertType.is(row.type) ? row.type : 'ALARM',
    scheduledTime: row.scheduled_time,
    scheduledAt: row.scheduled_at,
    details: isRecord(details) ? details : {},
    active: row.active !== 0,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

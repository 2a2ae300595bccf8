// The device as the bench runs it: configured as a product would be (a SQLite database, logs at
// info level written synchronously to a file, the default connection tuning) against the
// simulator over TLS on 127.0.0.1.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createDevice, type Device, type DeviceConfig, type DeviceDrivers } from '../../runtime/device/device';
import { createLogger } from '../../services/log/logger';
import { StaticTokenSource } from '../../services/transport';

/** Where the simulator listens and how to get in (sent by the harness; the token is never printed). */
export interface DeviceTarget {
  readonly url: string;
  readonly caPath: string;
  readonly token: string;
}

export interface BenchDevice {
  readonly device: Device;
  /** Bytes the device logged (info level and above). */
  logBytes(): number;
  /** Stops the device and removes its database and log. */
  dispose(): Promise<void>;
}

export function startBenchDevice(target: DeviceTarget, drivers: DeviceDrivers, extra: Partial<DeviceConfig> = {}): BenchDevice {
  const dir = mkdtempSync(join(tmpdir(), 'avs-bench-'));
  const logPath = join(dir, 'device.log');
  const destination = pino.destination({ dest: logPath, sync: true });
  const device = createDevice({
    endpoint: target.url,
    caFile: target.caPath,
    tokens: new StaticTokenSource(target.token),
    // BENCH_NO_DATABASE=1 runs without one (memory stores), to see what the database costs.
    ...(process.env.BENCH_NO_DATABASE ? {} : { database: join(dir, 'device.db') }),
    logger: createLogger({ level: 'info', destination }),
    drivers,
    seed: 1,
    ...extra,
  });
  return {
    device,
    logBytes: () => {
      try {
        return statSync(logPath).size;
      } catch {
        return 0;
      }
    },
    dispose: async () => {
      await device.stop();
      destination.flushSync();
      if (process.env.BENCH_KEEP_LOGS) process.stderr.write(`bench: device log kept in ${logPath}\n`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

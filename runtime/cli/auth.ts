// `avs login`, `avs register-info`, `avs authorize`, `avs logout` (PROTOCOL.md §12): linking the
// device with Login with Amazon from the command line, on the device's own database and config.
// Tokens are never printed; the refresh token goes to the database (mode 0600) only.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import QRCode from 'qrcode';
import { waitFor } from 'xstate';
import { ConfigError, defaultConfigPath, loadConfig, type AvsConfig, type ConfigFlags } from '../config';
import { createLogger, type LogLevel } from '../../services/log/logger';
import { openDatabase, type DeviceDatabase } from '../../services/store/database';
import { SqliteKeyValueStore } from '../../services/store/kv';
import { DeviceAuthorization, wipeCustomerData } from '../device/authorization';
import { type CliIo, EXIT_FAILED, EXIT_OK, UsageError } from './io';

const COMMON = `  --config FILE         the device config (default $AVS_CONFIG or ~/.avs-device/config.json)
  --client-id ID        lwa.clientId      --product-id ID   lwa.productId
  --serial DSN          lwa.deviceSerialNumber
  --lwa-url URL         lwa.url (default https://api.amazon.com; the simulator's for offline work)
  --ca-file FILE        avs.caFile: an extra CA to trust (the simulator's)
  --database FILE       device.database`;

export const loginHelp = `usage: avs login [options]

Links the device with code-based linking (PROTOCOL.md §12.1): prints the page to open and the
code to type (and a QR code of the page in a terminal), waits while you sign in, and ends when the
device is linked. The refresh token is kept in the device database.

${COMMON}
  --timeout SECONDS     give up after this long (default 900)`;

export const registerInfoHelp = `usage: avs register-info [options]

Prints, as JSON, what a companion app needs to authorize this device (§12.5): product ID, serial
number, and a PKCE code challenge (S256) whose verifier the device keeps.

${COMMON}`;

export const authorizeHelp = `usage: avs authorize --code CODE --redirect-uri URI [--app-client-id ID] [options]

Exchanges the authorization code a companion app or site sent back (§12.4, §12.5) for tokens,
with the PKCE verifier of \`avs register-info\`, and keeps the refresh token. Ends linked.

${COMMON}`;

export const logoutHelp = `usage: avs logout [options]

Unlinks the device: removes the tokens and every piece of the customer's data (alerts, settings,
undelivered events) from the device database, as a device must on deregistration (§12.2).

${COMMON}`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string' },
  'client-id': { type: 'string' },
  'product-id': { type: 'string' },
  serial: { type: 'string' },
  'lwa-url': { type: 'string' },
  'ca-file': { type: 'string' },
  database: { type: 'string' },
  'log-level': { type: 'string' },
  timeout: { type: 'string' },
  code: { type: 'string' },
  'redirect-uri': { type: 'string' },
  'app-client-id': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; args: string[] }>>['values'];

/** The config the command runs with: the file (when there is one), the environment, the flags. */
function configOf(values: Values): AvsConfig {
  const flags: ConfigFlags = {
    'lwa.clientId': values['client-id'],
    'lwa.productId': values['product-id'],
    'lwa.deviceSerialNumber': values.serial,
    'lwa.url': values['lwa-url'],
    'avs.caFile': values['ca-file'],
    'device.database': values.database,
    'log.level': values['log-level'],
  };
  const file = values.config ?? (existsSync(defaultConfigPath()) ? defaultConfigPath() : undefined);
  try {
    return loadConfig({ ...(file ? { file } : {}), flags });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

interface Session {
  readonly config: AvsConfig;
  readonly db: DeviceDatabase;
  readonly auth: DeviceAuthorization;
}

function open(values: Values): Session {
  const config = configOf(values);
  const lwa = config.lwa;
  if (!lwa) throw new UsageError('config lwa: clientId, productId and deviceSerialNumber are needed (config file, AVS_LWA_* or --client-id/--product-id/--serial)');
  const db = openDatabase(config.device.database);
  const ca = config.avs.caFile ? readFileSync(config.avs.caFile) : undefined;
  const auth = new DeviceAuthorization({
    clientId: lwa.clientId,
    productId: lwa.productId,
    deviceSerialNumber: lwa.deviceSerialNumber,
    url: lwa.url,
    ...(ca ? { ca } : {}),
    ...(config.device.locale ? { locale: config.device.locale } : {}),
    store: new SqliteKeyValueStore(db),
    // Logs on stderr only when asked; never a token in them (services/log).
    logger: createLogger({ level: (values['log-level'] as LogLevel | undefined) ?? 'silent' }),
  });
  return { config, db, auth };
}

const linkedByText: Record<string, string> = {
  CODE_BASED_LINKING: 'code-based linking',
  COMPANION_APP: 'a companion app',
  COMPANION_SITE: 'a companion site',
  LOCAL_APP: 'a local app',
};

async function untilLinked(session: Session, io: CliIo, timeoutMs: number): Promise<number> {
  const { auth } = session;
  try {
    const done = await waitFor(auth.actor, (s) => s.matches('LINKED') || s.matches('ERROR'), { timeout: timeoutMs });
    if (done.matches('ERROR')) {
      io.err(`not linked: ${done.context.error ?? 'unknown error'}`);
      return EXIT_FAILED;
    }
    io.out(`linked (by ${linkedByText[done.context.linkedBy ?? ''] ?? 'an earlier login'}); the refresh token is kept in ${session.config.device.database}`);
    return EXIT_OK;
  } catch {
    io.err(`not linked within ${Math.round(timeoutMs / 1000)} s`);
    return EXIT_FAILED;
  }
}

export async function loginCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    io.out(loginHelp);
    return EXIT_OK;
  }
  const timeoutS = values.timeout === undefined ? 900 : Number(values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError(`--timeout: expected a positive number of seconds, got ${JSON.stringify(values.timeout)}`);
  const session = open(values);
  const { auth } = session;
  try {
    auth.actor.on('CODE_PAIR.READY', (e) => {
      io.out(`To link this device, open ${e.verificationUri} and enter the code ${e.userCode}`);
      io.out(`(the code is valid for ${Math.round(e.expiresIn / 60)} minutes)`);
      if (process.stdout.isTTY) {
        QRCode.toString(e.verificationUri, { type: 'terminal', small: true }, (error, qr) => {
          if (!error) io.out(qr);
        });
      }
    });
    let polls = 0;
    auth.actor.subscribe((s) => {
      if (s.matches({ WAITING_FOR_USER: 'POLLING' })) {
        polls++;
        if (polls === 1 || polls % 6 === 0) io.out(`waiting for you to sign in… (${polls} ${polls === 1 ? 'check' : 'checks'})`);
      }
    });
    auth.start();
    // Already linked: the kept refresh token is refreshed, and that is all.
    if (auth.actor.getSnapshot().matches('UNLINKED')) auth.login();
    return await untilLinked(session, io, timeoutS * 1000);
  } finally {
    auth.stop();
    session.db.close();
  }
}

export async function registerInfoCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    io.out(registerInfoHelp);
    return EXIT_OK;
  }
  const session = open(values);
  try {
    io.out(JSON.stringify(session.auth.registrationInfo(), null, 2));
    return EXIT_OK;
  } finally {
    session.db.close();
  }
}

export async function authorizeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    io.out(authorizeHelp);
    return EXIT_OK;
  }
  if (!values.code) throw new UsageError('--code is required');
  if (!values['redirect-uri']) throw new UsageError('--redirect-uri is required');
  const session = open(values);
  try {
    session.auth.start();
    session.auth.authorize({ code: values.code, redirectUri: values['redirect-uri'], clientId: values['app-client-id'] ?? session.config.lwa?.clientId ?? '' });
    return await untilLinked(session, io, 60_000);
  } finally {
    session.auth.stop();
    session.db.close();
  }
}

export async function logoutCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  if (values.help) {
    io.out(logoutHelp);
    return EXIT_OK;
  }
  const config = configOf(values);
  const db = openDatabase(config.device.database);
  try {
    wipeCustomerData(db);
    io.out(`logged out: the tokens and the customer's data are gone from ${config.device.database}`);
    return EXIT_OK;
  } finally {
    db.close();
  }
}

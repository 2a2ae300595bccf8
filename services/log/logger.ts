// Structured logs (CONVENTIONS.md): pino, one child logger per module (`{ module: 'transport' }`).
// Never a token or an audio buffer in a log line: secrets are redacted by key wherever they sit,
// and binary values are written as their length only.
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Keys whose values are secrets, at the top of a log object or one/two levels down. */
const SECRET_KEYS = ['authorization', 'Authorization', 'x-amz-access-token', 'access_token', 'refresh_token', 'accessToken', 'refreshToken', 'client_secret', 'code_verifier', 'password'];
export const REDACTED_PATHS: readonly string[] = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`].map((p) => (/^[\w*.]+$/.test(p) ? p : p.replace(k, `["${k}"]`))));

const isBinary = (v: unknown): v is Uint8Array | ArrayBuffer => v instanceof Uint8Array || v instanceof ArrayBuffer;

/** Replaces binary values (audio) by a short description, two levels deep. */
function withoutBinary(value: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    let replaced: unknown = v;
    if (isBinary(v)) replaced = `[${v.byteLength} bytes]`;
    else if (depth < 1 && v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error)) {
      const inner = withoutBinary(v as Record<string, unknown>, depth + 1);
      if (inner !== v) replaced = inner;
    }
    if (replaced !== v) (out ??= { ...value })[k] = replaced;
  }
  return out ?? value;
}

export interface CreateLoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go (stderr when not given). */
  readonly destination?: DestinationStream;
}

/** The device's root logger; modules take `logger.child({ module })`. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: null,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    formatters: { log: (object) => withoutBinary(object) },
  };
  return pino(config, options.destination ?? pino.destination(2));
}

/** A logger that writes nothing (tests, and embedders that bring none). */
export const silentLogger = (): Logger => pino({ level: 'silent' });

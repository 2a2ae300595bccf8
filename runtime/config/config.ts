// The device's one config object (CONVENTIONS.md "Logs, config, CLI"): an io-ts codec, and a
// loader that merges defaults < a JSON file < AVS_<SECTION>_<KEY> environment variables < flags,
// validates the result at start and throws one ConfigError naming the bad key and where its
// value came from. Secrets (lwa.clientSecret) never appear in an error or a summary.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as t from 'io-ts';
import { EndpointUrl, HttpUrl, intRange, JsonObject, LocaleTag, NonEmptyString, oneOf } from '../../machines/envelope/primitives';
import { formatDecodeError, toDecodeError } from '../../machines/envelope/report';
import { FirmwareVersion } from '../../machines/system/messages';
import { Profile } from '../../machines/speech-recognizer/messages';
import type { InterruptedBehavior } from '../../machines/audio-player/machine';
import type { LogLevel } from '../../services/log/logger';

// ---------------------------------------------------------------------------------------------
// Codec helpers

type Shape<R extends t.Props, O extends t.Props> = { readonly [K in keyof R]: t.TypeOf<R[K]> } & {
  readonly [K in keyof O]?: t.TypeOf<O[K]>;
};
type ShapeOutput<R extends t.Props, O extends t.Props> = { readonly [K in keyof R]: t.OutputOf<R[K]> } & {
  readonly [K in keyof O]?: t.OutputOf<O[K]>;
};

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/**
 * An object with `required` and `optional` keys and no others: t.exact would drop a misspelt key
 * silently, and a config key nobody reads is a setting the user believes in that does nothing.
 */
export class ClosedType<R extends t.Props, O extends t.Props> extends t.Type<Shape<R, O>, ShapeOutput<R, O>, unknown> {
  readonly _tag = 'ClosedType' as const;
  constructor(
    name: string,
    readonly required: R,
    readonly optional: O,
  ) {
    const known = [...Object.keys(required), ...Object.keys(optional)];
    const isKnown = (key: string) => hasOwn(required, key) || hasOwn(optional, key);
    super(
      name,
      (u): u is Shape<R, O> =>
        JsonObject.is(u) &&
        Object.keys(u).every(isKnown) &&
        Object.entries(required).every(([k, codec]) => codec.is(u[k])) &&
        Object.entries(optional).every(([k, codec]) => u[k] === undefined || codec.is(u[k])),
      (u, c) => {
        if (!JsonObject.is(u)) return t.failure(u, c);
        const errors: t.ValidationError[] = [];
        // Unknown keys first: a misspelt key also makes the real one "missing", and the typo is the cause.
        for (const key of Object.keys(u)) {
          if (!isKnown(key)) {
            errors.push({
              value: u[key],
              context: t.appendContext(c, key, t.never, u[key]),
              message: `unknown key (expected one of: ${known.join(', ')})`,
            });
          }
        }
        const out: Record<string, unknown> = {};
        const check = (key: string, codec: t.Mixed) => {
          const r = codec.validate(u[key], t.appendContext(c, key, codec, u[key]));
          if (r._tag === 'Left') errors.push(...r.left);
          else if (r.right !== undefined) out[key] = r.right;
        };
        for (const [key, codec] of Object.entries(required)) check(key, codec);
        for (const [key, codec] of Object.entries(optional)) if (u[key] !== undefined) check(key, codec);
        return errors.length > 0 ? t.failures(errors) : t.success(out as Shape<R, O>);
      },
      (a) => {
        const out: Record<string, unknown> = {};
        const source = a as Record<string, unknown>;
        for (const [key, codec] of [...Object.entries(required), ...Object.entries(optional)]) {
          if (source[key] !== undefined) out[key] = codec.encode(source[key]);
        }
        return out as ShapeOutput<R, O>;
      },
    );
  }
}

const closed = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O) =>
  new ClosedType(name, required, optional);

/** `codec`, with `fallback()` decoded in place of a missing value (so the decoded type has no `undefined`). */
export class DefaultedType<C extends t.Mixed> extends t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> {
  readonly _tag = 'DefaultedType' as const;
  constructor(
    readonly inner: C,
    readonly fallback: () => unknown,
  ) {
    super(
      inner.name,
      (u): u is t.TypeOf<C> => inner.is(u),
      (u, c) => inner.validate(u === undefined ? fallback() : u, c),
      (a) => inner.encode(a),
    );
  }
}

const defaulted = <C extends t.Mixed>(codec: C, fallback: () => unknown) => new DefaultedType(codec, fallback);

/** A config section: always present once decoded, its own defaults filled in. */
const section = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O) =>
  defaulted(closed(`${name} section (object)`, required, optional), () => ({}));

/** A secret string: decoded as a plain string, never shown (errors, describeConfig). */
const Secret = new t.Type<string, string, unknown>('string', t.string.is, t.string.validate, t.identity);

/** A file path; a leading `~` is the user's home directory (JSON files and quoted flags are not shell-expanded). */
const FilePath = new t.Type<string, string, unknown>(
  'non-empty file path',
  NonEmptyString.is,
  (u, c) => (NonEmptyString.is(u) ? t.success(u === '~' || u.startsWith('~/') ? join(homedir(), u.slice(1)) : u) : t.failure(u, c)),
  t.identity,
);

// ---------------------------------------------------------------------------------------------
// The config

export const DEFAULT_LWA_URL = 'https://api.amazon.com';
export const DEFAULT_AVS_ENDPOINT = 'https://alexa.na.gateway.devices.a2z.com';
export const defaultDatabasePath = (): string => join(homedir(), '.avs-device', 'device.db');

const LogLevelCodec = oneOf<LogLevel>(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const InterruptedBehaviorCodec = oneOf<InterruptedBehavior>(['PAUSE', 'ATTENUATE']);

export const AvsConfig = closed(
  'AvsConfig',
  {
    // The SDK's default: AVS in North America; a SetEndpoint (§11.3) moves the device from there.
    avs: section('avs', { endpoint: defaulted(EndpointUrl, () => DEFAULT_AVS_ENDPOINT) }, { caFile: FilePath }),
    device: section(
      'device',
      { database: defaulted(FilePath, defaultDatabasePath) },
      { locale: LocaleTag, firmwareVersion: FirmwareVersion, initialVolume: intRange(0, 100) },
    ),
    audio: section(
      'audio',
      { player: defaulted(NonEmptyString, () => 'mpg123'), recorder: defaulted(oneOf(['sox', 'rec', 'arecord']), () => 'sox') },
      { device: t.string, gain: t.number, interruptedBehavior: InterruptedBehaviorCodec },
    ),
    recognizer: section('recognizer', {}, { tapProfile: Profile, listenOnExpectSpeech: t.boolean }),
    log: section('log', { level: defaulted(LogLevelCodec, () => 'info') }, {}),
    inspector: section('inspector', {}, { port: intRange(0, 65535) }),
  },
  {
    // Login with Amazon: absent for a device that gets its tokens another way (the simulator's).
    lwa: closed(
      'lwa section (object)',
      {
        clientId: NonEmptyString,
        productId: NonEmptyString,
        deviceSerialNumber: NonEmptyString,
        url: defaulted(HttpUrl, () => DEFAULT_LWA_URL),
      },
      // Only the site (authorization code) flow has one; the code-based flow must not.
      { clientSecret: Secret },
    ),
  },
);
export type AvsConfig = t.TypeOf<typeof AvsConfig>;

/** A config value the device cannot start with. `key` is the dotted path (`lwa.clientId`), undefined for the file as a whole. */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG' as const;
  constructor(
    message: string,
    readonly key: string | undefined,
    /** Where the bad value came from: `file <path>`, `env <NAME>` or `flag <key>`, when known. */
    readonly source?: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

// ---------------------------------------------------------------------------------------------
// The keys, read off the codec (so the environment names never drift from it)

type TextKind = 'number' | 'boolean' | 'text';

interface KeyInfo {
  /** `lwa.clientId` */
  readonly key: string;
  readonly section: string;
  /** `AVS_LWA_CLIENT_ID` */
  readonly env: string;
  /** What a string from the environment or a flag is turned into before decoding. */
  readonly kind: TextKind;
  /** What the codec expects (`integer 0..100`). */
  readonly expects: string;
  readonly secret: boolean;
}

const unwrap = (codec: t.Mixed): t.Mixed => (codec instanceof DefaultedType ? unwrap(codec.inner) : codec);
const propsOf = (codec: t.Mixed): t.Props => {
  const inner = unwrap(codec);
  return inner instanceof ClosedType ? { ...inner.required, ...inner.optional } : {};
};

const screamingSnake = (camel: string): string => camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const camelFromSnake = (snake: string): string => snake.toLowerCase().replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());

// Numbers and booleans are told apart by what the codec accepts; everything else stays a string.
const kindOf = (codec: t.Mixed): TextKind => (codec.is(true) ? 'boolean' : codec.is(0) || codec.is(1) ? 'number' : 'text');

const SECTIONS: readonly string[] = Object.keys(propsOf(AvsConfig));
const KEYS: ReadonlyMap<string, KeyInfo> = new Map(
  SECTIONS.flatMap((section) =>
    Object.entries(propsOf(propsOf(AvsConfig)[section])).map(([name, codec]): [string, KeyInfo] => {
      const key = `${section}.${name}`;
      const leaf = unwrap(codec);
      return [key, { key, section, env: `AVS_${screamingSnake(section)}_${screamingSnake(name)}`, kind: kindOf(leaf), expects: leaf.name, secret: leaf === Secret }];
    }),
  ),
);

const keysOfSection = (section: string): string[] =>
  [...KEYS.values()].filter((k) => k.section === section).map((k) => k.key.slice(section.length + 1));

/** Why `key` is not a config key, in the words the codec uses for an unknown key in a file. */
function unknownKeyMessage(key: string): string {
  const [section] = key.split('.');
  return SECTIONS.includes(section) && key.includes('.')
    ? `unknown key (expected one of: ${keysOfSection(section).join(', ')})`
    : `unknown key (expected one of: ${[...KEYS.keys()].join(', ')})`;
}

// ---------------------------------------------------------------------------------------------
// Layers

type Layer = Record<string, unknown>;
type Sources = Map<string, string>;

const isObject = (u: unknown): u is Record<string, unknown> => JsonObject.is(u);

// defineProperty, so a `__proto__` key from a file stays a key (and is reported as unknown).
const put = (obj: Record<string, unknown>, key: string, value: unknown): void => {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
};

/** `over` on top of `base`; objects merge key by key, anything else replaces. */
function merge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) put(out, k, v);
  for (const [k, v] of Object.entries(over)) put(out, k, merge(base[k], v));
  return out;
}

/** Records `source` for every path the layer sets (objects and the values in them). */
function recordSources(value: unknown, path: string, source: string, sources: Sources): void {
  if (path) sources.set(path, source);
  if (isObject(value)) for (const [k, v] of Object.entries(value)) recordSources(v, path ? `${path}.${k}` : k, source, sources);
}

/** A layer from dotted keys (`{ 'log.level': 'debug' }`). */
function fromDotted(entries: Iterable<[KeyInfo, unknown]>): Layer {
  const layer: Layer = {};
  for (const [info, value] of entries) {
    const existing = layer[info.section];
    const inner = isObject(existing) ? existing : {};
    put(inner, info.key.slice(info.section.length + 1), value);
    put(layer, info.section, inner);
  }
  return layer;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** A string from the environment or a flag as the value its key wants, or an error saying it does not parse. */
function fromText(info: KeyInfo, text: string, source: string): unknown {
  const s = text.trim();
  if (info.kind === 'number') {
    if (NUMBER.test(s)) return Number(s);
    throw new ConfigError(`config ${info.key}: expected ${info.expects}, got ${JSON.stringify(text)} (from ${source}, which is not a number)`, info.key, source);
  }
  if (info.kind === 'boolean') {
    if (TRUE.has(s.toLowerCase())) return true;
    if (FALSE.has(s.toLowerCase())) return false;
    throw new ConfigError(
      `config ${info.key}: expected ${info.expects}, got ${JSON.stringify(text)} (from ${source}, which is not true/false, yes/no, on/off or 1/0)`,
      info.key,
      source,
    );
  }
  return text;
}

function envLayer(env: Readonly<Record<string, string | undefined>>, sources: Sources): Layer {
  const byName = new Map([...KEYS.values()].map((k) => [k.env, k]));
  const entries: [KeyInfo, unknown][] = [];
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined || !name.startsWith('AVS_')) continue;
    const info = byName.get(name);
    if (!info) {
      // AVS_<SECTION>_… is ours, so a misspelt key is an error; other AVS_ names (AVS_CONFIG) are not.
      const section = SECTIONS.find((s) => name.startsWith(`AVS_${screamingSnake(s)}_`));
      if (section === undefined) continue;
      const key = `${section}.${camelFromSnake(name.slice(`AVS_${screamingSnake(section)}_`.length))}`;
      const known = keysOfSection(section).map((k) => `AVS_${screamingSnake(section)}_${screamingSnake(k)}`);
      throw new ConfigError(`config ${key}: unknown key (from env ${name}; expected one of: ${known.join(', ')})`, key, `env ${name}`);
    }
    const source = `env ${name}`;
    entries.push([info, fromText(info, text, source)]);
    sources.set(info.key, source);
  }
  return fromDotted(entries);
}

export type ConfigFlags = Readonly<Record<string, string | number | boolean | undefined>>;

function flagsLayer(flags: ConfigFlags, sources: Sources): Layer {
  const entries: [KeyInfo, unknown][] = [];
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const source = `flag ${key}`;
    const info = KEYS.get(key);
    if (!info) throw new ConfigError(`config ${key}: ${unknownKeyMessage(key)} (from ${source})`, key, source);
    entries.push([info, typeof value === 'string' ? fromText(info, value, source) : value]);
    sources.set(key, source);
  }
  return fromDotted(entries);
}

function fileLayer(file: string, sources: Sources): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read it (${code ?? (e as Error).message})`;
    throw new ConfigError(`config file ${file}: ${why}`, undefined, `file ${file}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${file}: not valid JSON ${jsonSyntaxError(text, e as Error)}`, undefined, `file ${file}`);
  }
  if (!isObject(doc)) {
    const got = doc === null ? 'null' : Array.isArray(doc) ? 'an array' : `a ${typeof doc}`;
    throw new ConfigError(`config file ${file}: expected a JSON object at the top, got ${got}`, undefined, `file ${file}`);
  }
  recordSources(doc, '', `file ${file}`, sources);
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Where JSON.parse gave up. V8's message quotes the text around the error (which may hold the
// client secret) and often has no position, so a small scanner finds the place again.

class JsonStop {
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {}
}

function scanJson(text: string): JsonStop | undefined {
  let i = 0;
  const stop = (reason: string): never => {
    throw new JsonStop(i, reason);
  };
  const unexpected = (): never => stop(i >= text.length ? 'unexpected end of the file' : `unexpected character ${JSON.stringify(text[i])}`);
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) stop('unterminated string');
      const ch = text[i];
      if (ch === '"') return void i++;
      if (ch.charCodeAt(0) < 0x20) stop('control character in a string (escape it)');
      if (ch === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) stop('bad \\u escape');
          i += 4;
        } else if (i >= text.length || !'"\\/bfnrt'.includes(text[i])) stop('bad escape in a string');
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') stop(i >= text.length ? 'unexpected end of the file' : 'expected a property name in double quotes');
        string();
        ws();
        if (text[i] !== ':') stop("expected ':' after a property name");
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else stop("expected ',' or '}' after a property value");
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else stop("expected ',' or ']' after an array element");
      }
    }
    if (ch === '"') return string();
    if (ch === '-' || (ch >= '0' && ch <= '9')) {
      const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
      m.lastIndex = i;
      if (!m.exec(text)) stop('bad number');
      i = m.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (ch === literal[0]) {
        for (const expected of literal) {
          if (text[i] !== expected) unexpected();
          i++;
        }
        return;
      }
    }
    unexpected();
  };
  try {
    if (text.trim() === '') return new JsonStop(0, 'the file is empty');
    value();
    ws();
    if (i < text.length) stop('unexpected text after the JSON value');
    return undefined;
  } catch (e) {
    if (e instanceof JsonStop) return e;
    throw e;
  }
}

/** `at line L, column C: <reason>` for text JSON.parse rejected. */
function jsonSyntaxError(text: string, parseError: Error): string {
  const found = scanJson(text);
  // Should not happen; V8's message, without the quoted text.
  if (!found) return `(${parseError.message.replace(/, ".*" is not valid JSON$/s, '')})`;
  const lines = text.slice(0, found.position).split('\n');
  return `at line ${lines.length}, column ${lines[lines.length - 1].length + 1}: ${found.reason}`;
}

// ---------------------------------------------------------------------------------------------
// Loading

export interface ConfigInputs {
  /** A JSON file with the sections as objects. Not given: none; given but missing: an error. */
  readonly file?: string;
  /** `AVS_<SECTION>_<KEY>` variables (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Dotted keys (`{ 'log.level': 'debug' }`); undefined values are skipped. */
  readonly flags?: ConfigFlags;
}

/** `~/.avs-device/config.json`, or `$AVS_CONFIG`. */
export const defaultConfigPath = (env: Readonly<Record<string, string | undefined>> = process.env): string =>
  env.AVS_CONFIG || join(homedir(), '.avs-device', 'config.json');

/** `$.lwa.clientId` → `lwa.clientId` */
const dottedKey = (jsonPath: string): string => jsonPath.replace(/^\$\.?/, '');

const valueAt = (obj: unknown, key: string): unknown =>
  key === '' ? obj : key.split('.').reduce<unknown>((v, k) => (isObject(v) && hasOwn(v, k) ? v[k] : undefined), obj);

/** Where the value at `key` (or the object holding it) came from. */
function sourceOf(key: string, sources: Sources): string | undefined {
  for (let k = key; k !== ''; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
    const source = sources.get(k);
    if (source) return source;
  }
  return undefined;
}

const REDACTED = '[redacted]';

/** Every secret value in the merged input that could show up in a message. */
const secretsIn = (merged: unknown): string[] =>
  [...KEYS.values()]
    .filter((k) => k.secret)
    .map((k) => valueAt(merged, k.key))
    .filter((v): v is string => typeof v === 'string' && v.length >= 4);

const redact = (message: string, secrets: readonly string[]): string =>
  secrets.reduce((m, s) => m.split(s).join(REDACTED).split(JSON.stringify(s).slice(1, -1)).join(REDACTED), message);

/** The config, validated; throws a ConfigError naming the first bad key (and its source). */
export function loadConfig(inputs: ConfigInputs = {}): AvsConfig {
  const sources: Sources = new Map();
  const layers = [
    inputs.file === undefined ? {} : fileLayer(inputs.file, sources),
    envLayer(inputs.env ?? process.env, sources),
    flagsLayer(inputs.flags ?? {}, sources),
  ];
  const merged = layers.reduce<unknown>(merge, {});
  const decoded = AvsConfig.decode(merged);
  if (decoded._tag === 'Right') return decoded.right;

  const error = toDecodeError(decoded.left);
  const key = dottedKey(error.path);
  const value = valueAt(merged, key);
  const info = KEYS.get(key);
  let message = error.message;
  if (info?.secret && value !== undefined) message = `expected string, got ${REDACTED}`;
  const source = value === undefined ? undefined : sourceOf(key, sources);
  if (source) message += ` (from ${source})`;
  else if (value === undefined && info) message += `; set it in the config file, ${info.env} or flag ${key}`;
  throw new ConfigError(redact(`config ${formatDecodeError({ ...error, path: key, message })}`, secretsIn(merged)), key, source);
}

/** One line per key (`lwa.clientSecret  [redacted]`), for `avs config` and the start-up log. */
export function describeConfig(config: AvsConfig): string {
  const width = Math.max(...[...KEYS.keys()].map((k) => k.length)) + 2;
  const lines: string[] = [];
  for (const section of SECTIONS) {
    // An optional section that is absent is one line, not one per key.
    if (valueAt(config, section) === undefined) {
      lines.push(`${section.padEnd(width)}(not set)`);
      continue;
    }
    for (const info of KEYS.values()) {
      if (info.section !== section) continue;
      const value = valueAt(config, info.key);
      const shown = value === undefined ? '(not set)' : info.secret ? REDACTED : typeof value === 'string' ? value : JSON.stringify(value);
      lines.push(`${info.key.padEnd(width)}${shown}`);
    }
  }
  return lines.join('\n');
}

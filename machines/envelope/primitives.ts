// Scalar codecs shared by every interface's messages. Each one is named after what it expects,
// so a decode error reads "expected integer 0..100, got 150".
import * as t from 'io-ts';

const refine = <A>(name: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> =>
  new t.Type<A, A, unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity);

/** §0 "Types": a JSON integer in the 64-bit range; we accept what JavaScript can hold exactly. */
export const Long = refine('long (integer)', (u): u is number => typeof u === 'number' && Number.isSafeInteger(u));

/** A long that is never negative (offsets, durations, timeouts). */
export const NonNegativeLong = refine(
  'long ≥ 0',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
);

/** An integer in [min, max] (§10.2: volume 0..100, AdjustVolume -100..100). */
export const intRange = (min: number, max: number) =>
  refine(
    `integer ${min}..${max}`,
    (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= min && u <= max,
  );

/** A string with at least one character (messageId, which §2.2 makes mandatory). */
export const NonEmptyString = refine('non-empty string', (u): u is string => typeof u === 'string' && u.length > 0);

// §2.4: ISO 8601 with `Z`, `+hh:mm` or `+hhmm` (the last was observed from AVS in an expiryTime).
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Milliseconds since the epoch for an ISO 8601 date-time as AVS writes them, or undefined. */
export function parseIsoDateTime(s: string): number | undefined {
  const m = ISO_8601.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec = '0', frac = '', zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2)), om = Number(digits.slice(2));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = frac ? Math.round(Number(`0${frac}`) * 1000) : 0;
  return Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), ms) - offsetMinutes * 60_000;
}

/** An ISO 8601 date-time string (kept as the string AVS sent, so it is echoed unchanged). */
export const IsoDateTime = refine(
  'ISO 8601 date-time',
  (u): u is string => typeof u === 'string' && parseIsoDateTime(u) !== undefined,
);

const isHttpUrl = (u: unknown): u is string => {
  if (typeof u !== 'string') return false;
  try {
    const url = new URL(u);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.host.length > 0;
  } catch {
    return false;
  }
};

/** `cid:<content-id>`: a reference to a binary part of a multipart message (§1.5.1, RFC 2392). */
export const CidUrl = refine('cid:<content-id> URL', (u): u is string => typeof u === 'string' && /^cid:.+/i.test(u));

/** An absolute http(s) URL. */
export const HttpUrl = refine('http(s) URL', isHttpUrl);

/**
 * §1.1 / §11.3 SetEndpoint: a base URL "possibly with scheme and port" — an http(s) URL, or a
 * bare `host[:port]`, which means https.
 */
export const EndpointUrl = refine('http(s) URL or host[:port]', (u): u is string => {
  if (typeof u !== 'string' || u.length === 0) return false;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) return isHttpUrl(u);
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?\/?$/.test(u)) return false;
  try {
    return new URL(`https://${u}`).hostname.length > 0;
  } catch {
    return false;
  }
});

/** The https base URL an endpoint value means (a bare host gets `https://`). */
export const endpointBaseUrl = (endpoint: string): string =>
  (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`).replace(/\/+$/, '');

/** §8.3 stream.url: an http(s) URL or a `cid:` attachment reference. */
export const StreamUrl = refine(
  'http(s) URL or cid:<content-id>',
  (u): u is string => CidUrl.is(u) || isHttpUrl(u),
);

/** The content id a `cid:` URL refers to (percent-decoded as RFC 2392 says). */
export function contentIdOf(cidUrl: string): string {
  const id = cidUrl.replace(/^cid:/i, '');
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

/** §11.1: a locale tag `ll-CC`; the set of locales is open. */
export const LocaleTag = refine('locale tag like "en-US"', (u): u is string => typeof u === 'string' && /^[a-z]{2,3}-[A-Z]{2}$/.test(u));

/** A JSON object of any shape (a payload before its own codec looks at it). */
export const JsonObject = refine(
  'JSON object',
  (u): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u),
);

/** `{}` with any extra fields: the payload of a message that has no fields of its own. */
export const EmptyPayload = t.type({}, 'object');

/** A set of string literals, named as the protocol writes them: "A" | "B". */
export const oneOf = <V extends string>(values: readonly [V, ...V[]], name?: string) =>
  t.keyof(Object.fromEntries(values.map((v) => [v, null])) as { [K in V]: null }, name ?? values.map((v) => JSON.stringify(v)).join(' | '));

/** A rule across fields that the shape alone cannot say; `path` is relative to the checked value. */
export interface RuleViolation {
  readonly path: readonly string[];
  readonly message: string;
}

/** The type of the path entries a rule adds, so the error reporter knows they are real keys. */
export const RuleKey = new t.Type<unknown>('rule key', (_u): _u is unknown => true, t.success, t.identity);

/** `codec`, plus a rule checked after it decoded; a violation is reported at the rule's path. */
export class RuleType<C extends t.Mixed> extends t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> {
  readonly _tag = 'RuleType' as const;
  constructor(
    readonly inner: C,
    readonly rule: (value: t.TypeOf<C>) => RuleViolation | undefined,
  ) {
    super(
      inner.name,
      (u): u is t.TypeOf<C> => inner.is(u) && rule(u) === undefined,
      (u, c) => {
        const decoded = inner.validate(u, c);
        if (decoded._tag === 'Left') return decoded;
        const violation = rule(decoded.right);
        if (!violation) return decoded;
        let context = c;
        let value: unknown = u;
        for (const key of violation.path) {
          value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
          context = t.appendContext(context, key, RuleKey, value);
        }
        return t.failure(value, context, violation.message);
      },
      (a) => inner.encode(a),
    );
  }
}

export const withRule = <C extends t.Mixed>(codec: C, rule: (value: t.TypeOf<C>) => RuleViolation | undefined) =>
  new RuleType(codec, rule);

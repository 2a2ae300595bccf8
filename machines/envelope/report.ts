// Turns io-ts validation errors into the one readable line the CLI and the runtime print:
// `<json path>: <reason>`, e.g. `$.directive.payload.volume: expected integer 0..100, got 150`.
import * as t from 'io-ts';
import { RuleKey, RuleType } from './primitives';

/** A decode failure: where (a JSON path from the document root) and why. */
export interface DecodeError {
  readonly path: string;
  readonly message: string;
  /** How many further problems the same document had (only the first is described). */
  readonly more: number;
}

export const formatDecodeError = (e: DecodeError): string =>
  `${e.path}: ${e.message}${e.more > 0 ? ` (and ${e.more} more problem${e.more > 1 ? 's' : ''})` : ''}`;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Appends one key to a JSON path: `$.a.b`, `$.list[2]`, `$["odd key"]`. */
export function pathAppend(path: string, key: string | number, arrayIndex = typeof key === 'number'): string {
  if (arrayIndex) return `${path}[${key}]`;
  return IDENT.test(String(key)) ? `${path}.${key}` : `${path}[${JSON.stringify(String(key))}]`;
}

// A RuleType validates its inner codec in its own context, so look through it.
const unwrap = (type: t.Decoder<unknown, unknown>): t.Decoder<unknown, unknown> =>
  type instanceof RuleType ? (type.inner as t.Decoder<unknown, unknown>) : type;

// Keys io-ts adds for union members and intersection parts are not JSON keys.
const isStructural = (type: t.Decoder<unknown, unknown>): boolean => {
  const inner = unwrap(type);
  return inner instanceof t.UnionType || inner instanceof t.IntersectionType;
};

function describeValue(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    // A value nested too deeply overflows the stack in String() as well (found by fuzzing).
    try {
      s = String(v);
    } catch {
      s = Array.isArray(v) ? '[…]' : typeof v === 'object' && v !== null ? '{…}' : typeof v;
    }
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const expected = (name: string, value: unknown): string =>
  value === undefined ? `missing required field (expected ${name})` : `expected ${name}, got ${describeValue(value)}`;

/** One validation error as a path and a reason; a failure under a union is the union's. */
function describeError(error: t.ValidationError, base: string): { path: string; message: string } {
  const ctx = error.context;
  // Under a union, every alternative fails separately: report "expected A | B" once, at the union.
  let cut = ctx.findIndex((entry) => unwrap(entry.type) instanceof t.UnionType);
  if (cut < 0) cut = ctx.length - 1;
  let path = base;
  for (let i = 1; i <= cut; i++) {
    const parent = ctx[i - 1].type;
    if (ctx[i].type !== RuleKey && isStructural(parent)) continue;
    const inArray = unwrap(parent) instanceof t.ArrayType;
    path = pathAppend(path, ctx[i].key, inArray);
  }
  const entry = ctx[cut];
  if (!entry) return { path, message: error.message ?? 'invalid' };
  if (cut < ctx.length - 1) return { path, message: expected(entry.type.name, entry.actual) };
  return { path, message: error.message ?? expected(entry.type.name, error.value) };
}

/** The first error of a failed decode as a DecodeError; `base` is the path of the decoded value. */
export function toDecodeError(errors: t.Errors, base = '$'): DecodeError {
  if (errors.length === 0) return { path: base, message: 'invalid', more: 0 };
  const described = errors.map((e) => describeError(e, base));
  const distinct = new Set(described.map((d) => `${d.path}\u0000${d.message}`));
  return { ...described[0], more: distinct.size - 1 };
}

/** A DecodeError for a rule the codecs cannot express (checked by hand after decoding). */
export const ruleError = (path: string, message: string): DecodeError => ({ path, message, more: 0 });

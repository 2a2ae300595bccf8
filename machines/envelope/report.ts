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
export function pathAppend(path: string, key: string | number): string {
  if (typeof key === 'number' || /^\d+$/.test(key)) return `${path}[${key}]`;
  return IDENT.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

// Keys io-ts adds for union members and intersection parts are not JSON keys.
// A RuleType validates its inner codec in its own context, so look through it.
const isStructural = (type: t.Decoder<unknown, unknown>): boolean => {
  const inner = type instanceof RuleType ? (type.inner as t.Decoder<unknown, unknown>) : type;
  return inner instanceof t.UnionType || inner instanceof t.IntersectionType;
};

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The first error of a failed decode as a DecodeError; `base` is the path of the decoded value. */
export function toDecodeError(errors: t.Errors, base = '$'): DecodeError {
  const first = errors[0];
  if (!first) return { path: base, message: 'invalid', more: 0 };
  let path = base;
  for (let i = 1; i < first.context.length; i++) {
    if (first.context[i].type !== RuleKey && isStructural(first.context[i - 1].type)) continue;
    path = pathAppend(path, first.context[i].key);
  }
  const last = first.context[first.context.length - 1];
  const expected = last ? last.type.name : 'valid value';
  const message =
    first.message ??
    (first.value === undefined
      ? `missing required field (expected ${expected})`
      : `expected ${expected}, got ${describeValue(first.value)}`);
  return { path, message, more: errors.length - 1 };
}

/** A DecodeError for a rule the codecs cannot express (checked by hand after decoding). */
export const ruleError = (path: string, message: string): DecodeError => ({ path, message, more: 0 });

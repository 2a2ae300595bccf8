// fast-check arbitraries derived from the io-ts codecs themselves, so every message of the
// catalog can be generated without writing 60 generators by hand.
import fc from 'fast-check';
import * as t from 'io-ts';
import {
  CidUrl,
  EndpointUrl,
  HttpUrl,
  IsoDateTime,
  JsonObject,
  LocaleTag,
  Long,
  NonEmptyString,
  NonNegativeLong,
  RuleType,
  StreamUrl,
} from '../../machines/envelope/primitives';

const isoTime = fc
  .tuple(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }), fc.boolean())
  .map(([d, plain]) => (plain ? d.toISOString() : d.toISOString().replace(/\.\d{3}Z$/, '+0000')));
const httpUrl = fc.webUrl({ validSchemes: ['http', 'https'] });
const cidUrl = fc.string({ minLength: 1, maxLength: 40 }).map((s) => `cid:${encodeURIComponent(s)}`);
const safeKey = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__' && k !== 'constructor');

const PRIMITIVES = new Map<t.Decoder<unknown, unknown>, fc.Arbitrary<unknown>>([
  [Long, fc.maxSafeInteger()],
  [NonNegativeLong, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })],
  [NonEmptyString, fc.string({ minLength: 1 })],
  [IsoDateTime, isoTime],
  [CidUrl, cidUrl],
  [HttpUrl, httpUrl],
  [StreamUrl, fc.oneof(cidUrl, httpUrl)],
  [EndpointUrl, fc.oneof(httpUrl, fc.domain(), fc.tuple(fc.domain(), fc.integer({ min: 1, max: 65535 })).map(([d, p]) => `${d}:${p}`))],
  [LocaleTag, fc.tuple(fc.stringMatching(/^[a-z]{2}$/), fc.stringMatching(/^[A-Z]{2}$/)).map(([l, c]) => `${l}-${c}`)],
  [JsonObject, fc.dictionary(safeKey, fc.jsonValue(), { maxKeys: 3 })],
]);

export interface ArbitraryOptions {
  /** Add unknown fields to objects (§2.2: AVS adds fields over time; they must be accepted). */
  readonly extraFields?: boolean;
}

/** Values the codec accepts. */
export function arbitraryOf(codec: t.Decoder<unknown, unknown>, options: ArbitraryOptions = {}): fc.Arbitrary<unknown> {
  const known = PRIMITIVES.get(codec);
  if (known) return known;
  const range = /^integer (-?\d+)\.\.(-?\d+)$/.exec(codec.name);
  if (range) return fc.integer({ min: Number(range[1]), max: Number(range[2]) });
  if (codec.name.startsWith('positive 32-bit integer')) return fc.integer({ min: 1, max: 2147483647 }).map(String);
  if (codec instanceof RuleType) {
    return arbitraryOf(codec.inner as t.Decoder<unknown, unknown>, options).filter((v) => codec.is(v));
  }
  const keys = objectKeys(codec);
  if (keys) {
    const base = shapeOf(codec, options);
    if (!options.extraFields) return base;
    const extra = fc.dictionary(safeKey.filter((k) => !keys.has(k)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 });
    return fc.tuple(extra, base).map(([x, b]) => ({ ...x, ...(b as object) }));
  }
  if (codec instanceof t.UnionType) return fc.oneof(...(codec.types as t.Decoder<unknown, unknown>[]).map((c) => arbitraryOf(c, options)));
  if (codec instanceof t.LiteralType) return fc.constant(codec.value);
  if (codec instanceof t.KeyofType) return fc.constantFrom(...Object.keys(codec.keys));
  if (codec instanceof t.ArrayType) return fc.array(arbitraryOf(codec.type as t.Decoder<unknown, unknown>, options), { maxLength: 4 });
  if (codec instanceof t.DictionaryType) {
    return fc.dictionary(safeKey, arbitraryOf(codec.codomain as t.Decoder<unknown, unknown>, options), { maxKeys: 4 });
  }
  if (codec instanceof t.StringType) return fc.string({ maxLength: 60 });
  if (codec instanceof t.BooleanType) return fc.boolean();
  if (codec instanceof t.NullType) return fc.constant(null);
  if (codec instanceof t.NumberType) return fc.double({ noNaN: true, noDefaultInfinity: true });
  if (codec instanceof t.UnknownType) return fc.jsonValue();
  throw new Error(`no arbitrary for codec ${codec.name}`);
}

/** The field names of an object codec (interface, partial, or an intersection of them). */
function objectKeys(codec: t.Decoder<unknown, unknown>): Set<string> | undefined {
  if (codec instanceof t.InterfaceType || codec instanceof t.PartialType) return new Set(Object.keys(codec.props as object));
  if (codec instanceof t.IntersectionType) {
    const all = new Set<string>();
    for (const member of codec.types as t.Decoder<unknown, unknown>[]) {
      const keys = objectKeys(member);
      if (!keys) return undefined;
      keys.forEach((k) => all.add(k));
    }
    return all;
  }
  return undefined;
}

/** An object codec's own fields, without extra ones at this level. */
function shapeOf(codec: t.Decoder<unknown, unknown>, options: ArbitraryOptions): fc.Arbitrary<unknown> {
  if (codec instanceof t.IntersectionType) {
    const parts = (codec.types as t.Decoder<unknown, unknown>[]).map((c) => shapeOf(c, options));
    return fc.tuple(...parts).map((objs) => Object.assign({}, ...(objs as object[])));
  }
  const props = (codec as t.InterfaceType<t.Props>).props as Record<string, t.Decoder<unknown, unknown>>;
  const model = Object.fromEntries(Object.entries(props).map(([k, c]) => [k, arbitraryOf(c, options)]));
  return fc.record(model, codec instanceof t.PartialType ? { requiredKeys: [] } : undefined);
}

/** Every place in a JSON document, as the key/index path to it (the document itself is `[]`). */
export function jsonPaths(doc: unknown): (string | number)[][] {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(doc, []);
  return paths;
}

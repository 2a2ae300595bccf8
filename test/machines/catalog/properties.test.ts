// Property tests over every message of the catalog: generated valid messages decode and
// re-encode unchanged; random mutations of them never throw.
import fc from 'fast-check';
import type * as t from 'io-ts';
import {
  CONTEXT_CODECS,
  DIRECTIVE_CODECS,
  EVENT_CODECS,
  INTERFACE_BY_NAMESPACE,
  decodeContextEntry,
  decodeDirective,
  decodeEvent,
  decodeMessage,
  formatDecodeError,
} from '../../../machines/catalog';
import { arbitraryOf, jsonPaths } from '../../support/arbitrary';
import { loadExamples } from '../../support/fixtures';

const RUNS = 60;
const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

const contextArb = fc
  .tuple(...[...CONTEXT_CODECS.values()].map((c) => arbitraryOf(c as t.Decoder<unknown, unknown>)))
  .map((entries) => entries);

/** A whole event document that follows the §2.1 rules for its name. */
function eventDocArb(key: string, codec: t.Mixed): fc.Arbitrary<Record<string, unknown>> {
  const [namespace, name] = key.split('.');
  const spec = INTERFACE_BY_NAMESPACE.get(namespace);
  const needsContext = spec?.eventsWithContext.includes(name) ?? false;
  const needsDialog = spec?.eventsWithDialogRequestId.includes(name) ?? false;
  return fc.tuple(arbitraryOf(codec as t.Decoder<unknown, unknown>, { extraFields: true }), contextArb, fc.uuid()).map(([event, context, dialog]) => {
    const e = event as { header: Record<string, unknown>; payload: unknown };
    const header = { ...e.header };
    delete header.dialogRequestId;
    if (needsDialog) header.dialogRequestId = dialog;
    return { ...(needsContext ? { context } : {}), event: { ...e, header } };
  });
}

describe.each([...DIRECTIVE_CODECS.entries()])('directive %s', (_key, codec) => {
  it('decodes every generated valid message and re-encodes it unchanged', () => {
    fc.assert(
      fc.property(arbitraryOf(codec as t.Decoder<unknown, unknown>, { extraFields: true }), (directive) => {
        const doc = roundTrip({ directive });
        const r = decodeDirective(doc);
        if (r.kind !== 'ok') throw new Error(r.kind === 'invalid' ? formatDecodeError(r.error) : 'unsupported');
        expect(roundTrip(codec.encode(r.value))).toEqual((doc as { directive: unknown }).directive);
      }),
      { numRuns: RUNS },
    );
  });
});

describe.each([...EVENT_CODECS.entries()])('event %s', (key, codec) => {
  it('decodes every generated valid message and re-encodes it unchanged', () => {
    fc.assert(
      fc.property(eventDocArb(key, codec), (generated) => {
        const doc = roundTrip(generated) as { event: unknown };
        const r = decodeEvent(doc);
        if (r.kind !== 'ok') throw new Error(r.kind === 'invalid' ? formatDecodeError(r.error) : 'unsupported');
        expect(roundTrip(codec.encode(r.value.event))).toEqual(doc.event);
      }),
      { numRuns: RUNS },
    );
  });
});

describe.each([...CONTEXT_CODECS.entries()])('context %s', (_key, codec) => {
  it('decodes every generated valid entry and re-encodes it unchanged', () => {
    fc.assert(
      fc.property(arbitraryOf(codec as t.Decoder<unknown, unknown>, { extraFields: true }), (entry) => {
        const doc = roundTrip(entry) as { header: Record<string, unknown> };
        delete doc.header.messageId; // an extra field named messageId would make it another kind of message
        const r = decodeContextEntry(doc);
        if (r.kind !== 'ok') throw new Error(r.kind === 'invalid' ? formatDecodeError(r.error) : 'unsupported');
        expect(roundTrip(codec.encode(r.value))).toEqual(doc);
      }),
      { numRuns: RUNS },
    );
  });
});

/** Replaces, deletes or wraps the value at a random place in a JSON document. */
function mutationsOf(doc: unknown): fc.Arbitrary<unknown> {
  const paths = jsonPaths(doc);
  const replacement = fc.oneof(
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(null, '', -1, 1e308, 0.5, [], {}, 'cid:', '2024-02-30T00:00:00Z', 'http://', '__proto__'),
  );
  return fc.tuple(fc.constantFrom(...paths), replacement, fc.boolean()).map(([path, value, wrap]) => {
    const copy = roundTrip(doc);
    if (path.length === 0) return wrap ? [copy] : value;
    let node = copy as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    if (value === undefined) delete node[last];
    else node[last] = wrap ? { value } : value;
    return copy;
  });
}

describe('random mutations of every example', () => {
  it.each(loadExamples().map((e) => [e.file, e.doc]))('%s: decoding never throws and always says why', (_file, doc) => {
    fc.assert(
      fc.property(mutationsOf(doc), fc.boolean(), (mutated, lenient) => {
        const r = decodeMessage(mutated, { lenient });
        expect(['ok', 'invalid', 'unsupported']).toContain(r.kind);
        if (r.kind === 'invalid') {
          expect(r.error.path.startsWith('$')).toBe(true);
          expect(formatDecodeError(r.error).startsWith(`${r.error.path}: `)).toBe(true);
          expect(r.error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});

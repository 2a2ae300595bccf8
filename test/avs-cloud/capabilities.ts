// PROTOCOL.md §13: the body of `PUT /v1/devices/@self/capabilities`.
import * as t from 'io-ts';
import { JsonObject, NonEmptyString } from '../../machines/envelope/primitives';
import { formatDecodeError, toDecodeError } from '../../machines/envelope/report';

const Version = new t.Type<string, string, unknown>(
  'version like "1.0"',
  (u): u is string => typeof u === 'string' && /^\d+\.\d+$/.test(u),
  (u, c) => (typeof u === 'string' && /^\d+\.\d+$/.test(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

export const Capability = t.intersection(
  [t.type({ type: t.literal('AlexaInterface'), interface: NonEmptyString, version: Version }), t.partial({ configurations: JsonObject })],
  'Capability',
);

export const CapabilitiesDocument = t.type(
  { envelopeVersion: t.literal('20160207'), capabilities: t.array(Capability) },
  'CapabilitiesDocument',
);
export type CapabilitiesDocument = t.TypeOf<typeof CapabilitiesDocument>;

/** The document, or why it is malformed (§13: 400 `{"message": …}`). */
export function parseCapabilities(text: string): CapabilitiesDocument | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  const r = CapabilitiesDocument.validate(doc, [{ key: '', type: CapabilitiesDocument, actual: doc }]);
  return r._tag === 'Right' ? r.right : formatDecodeError(toDecodeError(r.left));
}

// §2: the envelope every AVS message shares, independent of the interface.
import * as t from 'io-ts';
import { JsonObject, NonEmptyString } from './primitives';

/** §2.2 directive header, before the namespace and name are known. */
export const DirectiveHeader = t.intersection(
  [
    t.type({ namespace: NonEmptyString, name: NonEmptyString, messageId: NonEmptyString }),
    t.partial({ dialogRequestId: t.string }),
  ],
  'DirectiveHeader',
);
export type DirectiveHeader = t.TypeOf<typeof DirectiveHeader>;

/** §2.2 `{"directive":{"header":…,"payload":{…}}}`, payload not yet decoded. */
export const DirectiveEnvelope = t.type(
  { directive: t.type({ header: DirectiveHeader, payload: JsonObject }) },
  'DirectiveEnvelope',
);

/** §2.1 event header. */
export const EventHeader = DirectiveHeader;
export type EventHeader = DirectiveHeader;

/** §2.3 a context entry header: like an event's, without messageId. */
export const ContextHeader = t.type({ namespace: NonEmptyString, name: NonEmptyString }, 'ContextHeader');

/** §2.3 a context entry, payload not yet decoded. */
export const ContextEntryEnvelope = t.type({ header: ContextHeader, payload: JsonObject }, 'ContextEntry');

/** §2.1 `{"context":[…],"event":{…}}`, payloads not yet decoded. */
export const EventEnvelope = t.intersection(
  [
    t.type({ event: t.type({ header: EventHeader, payload: JsonObject }) }),
    t.partial({ context: t.array(ContextEntryEnvelope) }),
  ],
  'EventEnvelope',
);

/** Builds the full codec of one directive: header with its namespace and name, and its payload. */
export const directiveCodec = <NS extends string, N extends string, P extends t.Mixed>(namespace: NS, name: N, payload: P) =>
  t.type(
    {
      header: t.intersection([
        t.type({ namespace: t.literal(namespace), name: t.literal(name), messageId: NonEmptyString }),
        t.partial({ dialogRequestId: t.string }),
      ]),
      payload,
    },
    `${namespace}.${name}`,
  );

/** Builds the codec of one event's `event` object. */
export const eventCodec = <NS extends string, N extends string, P extends t.Mixed>(namespace: NS, name: N, payload: P) =>
  t.type(
    {
      header: t.intersection([
        t.type({ namespace: t.literal(namespace), name: t.literal(name), messageId: NonEmptyString }),
        t.partial({ dialogRequestId: NonEmptyString }),
      ]),
      payload,
    },
    `${namespace}.${name}`,
  );

/** Builds the codec of one context entry. */
export const contextCodec = <NS extends string, N extends string, P extends t.Mixed>(namespace: NS, name: N, payload: P) =>
  t.type({ header: t.type({ namespace: t.literal(namespace), name: t.literal(name) }), payload }, `${namespace}.${name}`);

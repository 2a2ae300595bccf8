// Decoding any AVS message: the envelope first, then the payload with the codec of its own
// namespace + name (a plain union of every message is several times slower and its errors are
// unreadable). Nothing here throws on bad input: every outcome is a value.
import * as t from 'io-ts';
import {
  ContextEntryEnvelope,
  DirectiveEnvelope,
  EventEnvelope,
  contextCodec,
  directiveCodec,
  eventCodec,
} from '../envelope/messages';
import { type DecodeError, ruleError, toDecodeError, pathAppend } from '../envelope/report';
import { SystemExceptionBody } from '../system/messages';
import { INTERFACES, INTERFACE_BY_NAMESPACE, qualifiedName } from './interfaces';
import type { ContextEntry, Directive, EventMessage } from './interfaces';

export interface DecodeOptions {
  /**
   * Decode as the runtime does: fill in the fields the SDK defaults (§16 #6: playBehavior,
   * clearBehavior, streamFormat, audioItemId) and take the protocol's safe readings (§7.3: an
   * unknown alert type is an ALARM, unusable alert assets are dropped). `avs validate` is strict.
   */
  readonly lenient?: boolean;
}

/** `Namespace.Name` and the ids of a message, as far as its header could be read. */
export interface HeaderInfo {
  readonly namespace: string;
  readonly name: string;
  readonly messageId?: string;
  readonly dialogRequestId?: string;
}

export type DecodeResult<A> =
  | { readonly kind: 'ok'; readonly value: A; readonly header: HeaderInfo }
  /** Malformed: the envelope or the payload breaks the protocol (§2.2: UNEXPECTED_INFORMATION_RECEIVED). */
  | { readonly kind: 'invalid'; readonly header?: HeaderInfo; readonly error: DecodeError }
  /** Well formed, but not a message of the eight interfaces (§2.2: UNSUPPORTED_OPERATION). */
  | { readonly kind: 'unsupported'; readonly header: HeaderInfo };

type Kind = 'directives' | 'events' | 'context';

/** `Namespace.Name` → the codec `make` builds from each payload codec of that kind. */
const codecsOf = (kind: Kind, make: (namespace: string, name: string, payload: t.Mixed) => t.Mixed): Map<string, t.Mixed> =>
  new Map(
    INTERFACES.flatMap((spec) =>
      Object.entries(spec[kind] as Record<string, t.Mixed>).map(([name, payload]): [string, t.Mixed] => [
        `${spec.namespace}.${name}`,
        make(spec.namespace, name, payload),
      ]),
    ),
  );
const payloadOnly = (_ns: string, _name: string, payload: t.Mixed) => payload;
const DIRECTIVE_PAYLOADS = codecsOf('directives', payloadOnly);
const EVENT_PAYLOADS = codecsOf('events', payloadOnly);
const CONTEXT_PAYLOADS = codecsOf('context', payloadOnly);

/** Full codecs of every message (envelope + payload), e.g. for generating or checking whole messages. */
export const DIRECTIVE_CODECS: ReadonlyMap<string, t.Mixed> = codecsOf('directives', directiveCodec);
export const EVENT_CODECS: ReadonlyMap<string, t.Mixed> = codecsOf('events', eventCodec);
export const CONTEXT_CODECS: ReadonlyMap<string, t.Mixed> = codecsOf('context', contextCodec);

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/**
 * How deeply a message may nest. AVS messages nest about six levels (`directive.payload.audioItem
 * .stream.progressReport.…`); JSON.parse takes any depth, but the codecs, error reports and
 * everything that walks a message later are recursive, and a part of 1 MiB of `[` would overflow
 * the stack (a throw past the decoder, found by fuzzing). Deeper is invalid.
 */
export const MAX_DEPTH = 64;

/** The JSON path of a value nested deeper than MAX_DEPTH in `doc`, if any (walked without recursion). */
function tooDeep(doc: unknown, base = '$'): string | undefined {
  // Each entry: a value, its depth, and how it was reached (the path is only spelt out when needed).
  type Step = { readonly value: unknown; readonly depth: number; readonly key?: string | number; readonly parent?: Step };
  const stack: Step[] = [{ value: doc, depth: 0 }];
  for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
    const { value, depth } = step;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DEPTH) {
      const keys: (string | number)[] = [];
      for (let s: Step | undefined = step; s?.key !== undefined; s = s.parent) keys.unshift(s.key);
      return keys.reduce<string>((path, key) => pathAppend(path, key), base);
    }
    if (Array.isArray(value)) value.forEach((v, i) => stack.push({ value: v, depth: depth + 1, key: i, parent: step }));
    else for (const [k, v] of Object.entries(value)) stack.push({ value: v, depth: depth + 1, key: k, parent: step });
  }
  return undefined;
}

const nestedTooDeep = (path: string): DecodeError => ruleError(path, `nested more than ${MAX_DEPTH} levels deep`);

/** Whatever of a header can be read, for error reports on a message that did not decode. */
function headerInfo(header: unknown): HeaderInfo | undefined {
  if (!isObject(header) || typeof header.namespace !== 'string' || typeof header.name !== 'string') return undefined;
  return {
    namespace: header.namespace,
    name: header.name,
    ...(typeof header.messageId === 'string' ? { messageId: header.messageId } : {}),
    ...(typeof header.dialogRequestId === 'string' ? { dialogRequestId: header.dialogRequestId } : {}),
  };
}

function decodePayload(codec: t.Mixed, payload: unknown, path: string): { ok: true; value: unknown } | { ok: false; error: DecodeError } {
  const r = codec.validate(payload, [{ key: '', type: codec, actual: payload }]);
  return r._tag === 'Right' ? { ok: true, value: r.right } : { ok: false, error: toDecodeError(r.left, path) };
}

/** Decodes a directive document `{"directive":{"header":…,"payload":…}}` (§2.2). */
export function decodeDirective(doc: unknown, options: DecodeOptions = {}): DecodeResult<Directive> {
  const deep = tooDeep(doc);
  const env = deep === undefined ? DirectiveEnvelope.validate(doc, [{ key: '', type: DirectiveEnvelope, actual: doc }]) : undefined;
  if (env === undefined || env._tag === 'Left') {
    const header = isObject(doc) && isObject(doc.directive) ? headerInfo(doc.directive.header) : undefined;
    return { kind: 'invalid', ...(header ? { header } : {}), error: env === undefined ? nestedTooDeep(deep as string) : toDecodeError(env.left) };
  }
  const { header, payload } = env.right.directive;
  const info = headerInfo(header) as HeaderInfo;
  const key = qualifiedName(header);
  const codec = DIRECTIVE_PAYLOADS.get(key);
  if (!codec) return { kind: 'unsupported', header: info };
  const normalize = options.lenient ? INTERFACE_BY_NAMESPACE.get(header.namespace)?.lenient?.[header.name] : undefined;
  const decoded = decodePayload(codec, normalize ? normalize(payload) : payload, '$.directive.payload');
  if (!decoded.ok) return { kind: 'invalid', header: info, error: decoded.error };
  // Unknown extra fields stay (§2.2): the directive is the object received, payload decoded.
  return { kind: 'ok', header: info, value: { ...env.right.directive, payload: decoded.value } as Directive };
}

/** Decodes the raw text of a directive part; bad JSON is an invalid directive, never a throw. */
export function decodeDirectiveText(text: string, options: DecodeOptions = {}): DecodeResult<Directive> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { kind: 'invalid', error: ruleError('$', `not JSON: ${(e as Error).message}`) };
  }
  return decodeDirective(doc, options);
}

/** Decodes one context entry `{"header":{namespace,name},"payload":…}` (§2.3). */
export function decodeContextEntry(doc: unknown, path = '$'): DecodeResult<ContextEntry> {
  const deep = tooDeep(doc, path);
  const env = deep === undefined ? ContextEntryEnvelope.validate(doc, [{ key: '', type: ContextEntryEnvelope, actual: doc }]) : undefined;
  if (env === undefined || env._tag === 'Left') {
    const header = isObject(doc) ? headerInfo(doc.header) : undefined;
    return { kind: 'invalid', ...(header ? { header } : {}), error: env === undefined ? nestedTooDeep(deep as string) : toDecodeError(env.left, path) };
  }
  const info: HeaderInfo = { namespace: env.right.header.namespace, name: env.right.header.name };
  if (isObject(doc) && isObject(doc.header) && 'messageId' in doc.header) {
    return { kind: 'invalid', header: info, error: ruleError(`${path}.header.messageId`, 'a context entry has no messageId (§2.3)') };
  }
  const codec = CONTEXT_PAYLOADS.get(qualifiedName(info));
  if (!codec) return { kind: 'unsupported', header: info };
  const decoded = decodePayload(codec, env.right.payload, `${path}.payload`);
  if (!decoded.ok) return { kind: 'invalid', header: info, error: decoded.error };
  return { kind: 'ok', header: info, value: { ...env.right, payload: decoded.value } as ContextEntry };
}

/** Decodes an event's metadata document `{"context":[…],"event":{…}}` (§2.1) with its rules. */
export function decodeEvent(doc: unknown): DecodeResult<EventMessage> {
  const deep = tooDeep(doc);
  const env = deep === undefined ? EventEnvelope.validate(doc, [{ key: '', type: EventEnvelope, actual: doc }]) : undefined;
  if (env === undefined || env._tag === 'Left') {
    const header = isObject(doc) && isObject(doc.event) ? headerInfo(doc.event.header) : undefined;
    return { kind: 'invalid', ...(header ? { header } : {}), error: env === undefined ? nestedTooDeep(deep as string) : toDecodeError(env.left) };
  }
  const { event, context } = env.right;
  const info = headerInfo(event.header) as HeaderInfo;
  const key = qualifiedName(event.header);
  const codec = EVENT_PAYLOADS.get(key);
  const spec = INTERFACE_BY_NAMESPACE.get(event.header.namespace);
  if (!codec || !spec) return { kind: 'unsupported', header: info };
  const invalid = (path: string, message: string): DecodeResult<EventMessage> => ({
    kind: 'invalid',
    header: info,
    error: ruleError(path, message),
  });

  // §2.1: dialogRequestId on Recognize only.
  const needsDialog = spec.eventsWithDialogRequestId.includes(event.header.name);
  if (needsDialog && !event.header.dialogRequestId) {
    return invalid('$.event.header.dialogRequestId', `missing required field (${key} carries a dialogRequestId, §2.1)`);
  }
  if (!needsDialog && event.header.dialogRequestId !== undefined) {
    return invalid('$.event.header.dialogRequestId', `not allowed on ${key} (only SpeechRecognizer.Recognize has one, §2.1)`);
  }

  // §2.1: the full context on the events that need it, none on the others.
  const needsContext = spec.eventsWithContext.includes(event.header.name);
  if (needsContext && (context === undefined || context.length === 0)) {
    return invalid('$.context', `missing required field (${key} carries the full context, §2.1)`);
  }
  if (!needsContext && context !== undefined && context.length > 0) {
    return invalid('$.context', `not allowed on ${key} (it is sent without context, §2.1)`);
  }
  const entries: ContextEntry[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of (context ?? []).entries()) {
    const path = pathAppend('$.context', i);
    const name = qualifiedName(entry.header);
    if (seen.has(name)) return invalid(path, `a second ${name} entry (one entry per interface, §2.3)`);
    seen.add(name);
    const r = decodeContextEntry((doc as { context: unknown[] }).context[i], path);
    if (r.kind === 'invalid') return { kind: 'invalid', header: info, error: r.error };
    if (r.kind === 'unsupported' && INTERFACE_BY_NAMESPACE.has(entry.header.namespace)) {
      return invalid(`${path}.header.name`, `${entry.header.namespace} has no context state ${JSON.stringify(entry.header.name)} (§2.3)`);
    }
    // A context entry of an interface outside the eight is passed through unchecked.
    entries.push(r.kind === 'ok' ? r.value : (entry as unknown as ContextEntry));
  }

  const decoded = decodePayload(codec, event.payload, '$.event.payload');
  if (!decoded.ok) return { kind: 'invalid', header: info, error: decoded.error };
  const message = {
    ...env.right,
    ...(context !== undefined ? { context: entries } : {}),
    event: { ...event, payload: decoded.value },
  } as EventMessage;
  return { kind: 'ok', header: info, value: message };
}

/** Decodes a §1.5.3 error body `{"header":{System.Exception},"payload":{code,description}}`. */
export function decodeExceptionBody(doc: unknown): DecodeResult<SystemExceptionBody> {
  const header = isObject(doc) ? headerInfo(doc.header) : undefined;
  const deep = tooDeep(doc);
  if (deep !== undefined) return { kind: 'invalid', ...(header ? { header } : {}), error: nestedTooDeep(deep) };
  const r = SystemExceptionBody.validate(doc, [{ key: '', type: SystemExceptionBody, actual: doc }]);
  if (r._tag === 'Left') return { kind: 'invalid', ...(header ? { header } : {}), error: toDecodeError(r.left) };
  return { kind: 'ok', header: headerInfo(r.right.header) as HeaderInfo, value: r.right };
}

export type MessageKind = 'directive' | 'event' | 'context' | 'exception';

/** What a JSON document is, by shape (used by `avs validate`). */
export function classifyMessage(doc: unknown): MessageKind | undefined {
  if (!isObject(doc)) return undefined;
  if ('directive' in doc) return 'directive';
  if ('event' in doc) return 'event';
  if ('header' in doc && isObject(doc.header)) {
    if (doc.header.namespace === 'System' && doc.header.name === 'Exception') return 'exception';
    // §2.3: a context entry is the one kind of message without a messageId.
    return 'messageId' in doc.header ? undefined : 'context';
  }
  return undefined;
}

/** Decodes any of the four kinds of document; an unrecognisable shape is invalid at `$`. */
export function decodeMessage(doc: unknown, options: DecodeOptions = {}): DecodeResult<unknown> & { readonly messageKind?: MessageKind } {
  switch (classifyMessage(doc)) {
    case 'directive':
      return { ...decodeDirective(doc, options), messageKind: 'directive' };
    case 'event':
      return { ...decodeEvent(doc), messageKind: 'event' };
    case 'context':
      return { ...decodeContextEntry(doc), messageKind: 'context' };
    case 'exception':
      return { ...decodeExceptionBody(doc), messageKind: 'exception' };
    default: {
      const header = isObject(doc) ? headerInfo(doc.header) : undefined;
      const unwrapped = header?.messageId !== undefined;
      return {
        kind: 'invalid',
        ...(header ? { header } : {}),
        error: unwrapped
          ? ruleError('$', 'a message with a messageId must be wrapped as {"directive":…} or {"event":…} (§2.1, §2.2)')
          : ruleError('$', 'not an AVS message: expected {"directive":…}, {"event":…}, a context entry or a System.Exception body'),
      };
    }
  }
}

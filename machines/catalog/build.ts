// Builders for outbound events (§2.1): a fresh messageId, a dialogRequestId where the protocol
// asks for one, context where it is required — and the result checked against the codecs, so
// what leaves the device is a valid envelope.
import { randomUUID } from 'node:crypto';
import { formatDecodeError } from '../envelope/report';
import { decodeEvent } from './decode';
import { INTERFACE_BY_NAMESPACE } from './interfaces';
import type { ContextEntry, EventMessage, EventName, EventNamespace, EventPayload } from './interfaces';

export interface BuildEventOptions {
  /** The full context (§2.3); required for the events §2.1 lists, refused on the others. */
  readonly context?: readonly ContextEntry[];
  /** Only for SpeechRecognizer.Recognize: a fresh one is made when not given (§2.4). */
  readonly dialogRequestId?: string;
  /** A fixed messageId (tests); a fresh UUID otherwise. */
  readonly messageId?: string;
}

/** A bug in the caller: the event it asked for would not be a valid AVS message. */
export class EventBuildError extends Error {
  readonly code = 'INVALID_EVENT' as const;
  constructor(message: string) {
    super(message);
    this.name = 'EventBuildError';
  }
}

export const newMessageId = (): string => randomUUID();
export const newDialogRequestId = (): string => randomUUID();

/** Whether `Namespace.Name` must carry the full context (§2.1). */
export function eventNeedsContext(namespace: string, name: string): boolean {
  return INTERFACE_BY_NAMESPACE.get(namespace)?.eventsWithContext.includes(name) ?? false;
}

/** Builds the metadata document of an event. Throws EventBuildError if it would be invalid. */
export function buildEvent<NS extends EventNamespace, N extends EventName<NS>>(
  namespace: NS,
  name: N,
  payload: EventPayload<NS, N>,
  options: BuildEventOptions = {},
): EventMessage {
  const spec = INTERFACE_BY_NAMESPACE.get(namespace);
  const withDialog = spec?.eventsWithDialogRequestId.includes(name) ?? false;
  const header = {
    namespace,
    name,
    messageId: options.messageId ?? newMessageId(),
    ...(withDialog ? { dialogRequestId: options.dialogRequestId ?? newDialogRequestId() } : {}),
  };
  const doc = {
    ...(options.context !== undefined && eventNeedsContext(namespace, name) ? { context: [...options.context] } : {}),
    event: { header, payload },
  };
  if (options.context !== undefined && !eventNeedsContext(namespace, name)) {
    throw new EventBuildError(`${namespace}.${name} is sent without context (§2.1)`);
  }
  if (options.dialogRequestId !== undefined && !withDialog) {
    throw new EventBuildError(`${namespace}.${name} has no dialogRequestId (§2.1)`);
  }
  const checked = decodeEvent(doc);
  if (checked.kind !== 'ok') {
    throw new EventBuildError(
      `${namespace}.${name}: ${checked.kind === 'invalid' ? formatDecodeError(checked.error) : 'not an event of the eight interfaces'}`,
    );
  }
  return doc as EventMessage;
}

/** Builds the message for an event a machine emitted (an AVS.EVENT, see outbound.ts); checked like buildEvent. */
export function buildOutboundEvent(e: { readonly namespace: EventNamespace; readonly name: string; readonly payload: unknown }, options: BuildEventOptions = {}): EventMessage {
  // The payload's type follows from (namespace, name) in OutboundEvent; the codecs check it again here.
  return buildEvent(e.namespace, e.name as EventName<EventNamespace>, e.payload as EventPayload<EventNamespace, EventName<EventNamespace>>, options);
}

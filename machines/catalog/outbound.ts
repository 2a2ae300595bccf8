// How a machine says "send this event to AVS": it emits an AVS.EVENT (CONVENTIONS.md: outbound
// events leave a machine one way only). The runtime adds the envelope — messageId, the context
// where §2.1 asks for it — and hands it to the event sender.
import type { EventName, EventNamespace, EventPayload } from './interfaces';

export interface OutboundEventOf<NS extends EventNamespace, N extends EventName<NS>> {
  readonly type: 'AVS.EVENT';
  readonly namespace: NS;
  readonly name: N;
  readonly payload: EventPayload<NS, N>;
}

export type OutboundEvent = { [NS in EventNamespace]: { [N in EventName<NS>]: OutboundEventOf<NS, N> }[EventName<NS>] }[EventNamespace];

/** An AVS.EVENT for `Namespace.Name`, typed by its payload codec. */
export const outbound = <NS extends EventNamespace, N extends EventName<NS>>(namespace: NS, name: N, payload: EventPayload<NS, N>): OutboundEventOf<NS, N> => ({
  type: 'AVS.EVENT',
  namespace,
  name,
  payload,
});

// How an interface declares its messages: one object per interface (in machines/<interface>/
// messages.ts), from which the catalog builds the decoders, the builders and the types.
import type * as t from 'io-ts';

export type Codecs = Record<string, t.Mixed>;

export interface InterfaceSpec<NS extends string, D extends Codecs, E extends Codecs, C extends Codecs> {
  readonly namespace: NS;
  /** The interface version these messages follow (PROTOCOL.md §3). */
  readonly version: string;
  /** Directive payload codecs by directive name. */
  readonly directives: D;
  /** Event payload codecs by event name. */
  readonly events: E;
  /** Context state payload codecs by context name (§2.3). */
  readonly context: C;
  /** §2.1: the events that MUST carry the full context. */
  readonly eventsWithContext: ReadonlyArray<keyof E & string>;
  /** §2.1: the events that carry a dialogRequestId (only Recognize). */
  readonly eventsWithDialogRequestId: ReadonlyArray<keyof E & string>;
  /**
   * What the runtime makes of a directive's payload before validating it: the SDK's defaults for
   * fields AVS is documented to send (§16 #6), and the safe readings the protocol allows (an
   * unknown alert type is an ALARM, §7.3). Strict validation (`avs validate`) skips this.
   */
  readonly lenient?: { readonly [K in keyof D & string]?: (payload: Record<string, unknown>) => Record<string, unknown> };
}

export const defineInterface = <NS extends string, D extends Codecs, E extends Codecs, C extends Codecs>(
  spec: InterfaceSpec<NS, D, E, C>,
): InterfaceSpec<NS, D, E, C> => spec;

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** The value at `path` inside `obj`, if every step is an object. */
export const valueAt = (obj: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((v, key) => (isObject(v) ? v[key] : undefined), obj);

/**
 * A copy of `obj` with `value` put at `path` when the field is missing and every object on the
 * way exists (for `lenient`; a malformed payload is left for the codec to reject).
 */
export function withDefault(obj: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (rest.length === 0) return obj[head] === undefined ? { ...obj, [head]: value } : obj;
  const child = obj[head];
  return isObject(child) ? { ...obj, [head]: withDefault(child, rest, value) } : obj;
}

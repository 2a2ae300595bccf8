// The eight interfaces of PROTOCOL.md §3, and the message types derived from their codecs.
import type * as t from 'io-ts';
import type { Codecs, InterfaceSpec } from '../envelope/define';
import { Alerts } from '../alerts/messages';
import { AudioPlayer } from '../audio-player/messages';
import { PlaybackController } from '../playback-controller/messages';
import { Settings } from '../settings/messages';
import { Speaker } from '../speaker/messages';
import { SpeechRecognizer } from '../speech-recognizer/messages';
import { SpeechSynthesizer } from '../speech-synthesizer/messages';
import { System } from '../system/messages';

export const INTERFACES = [
  SpeechRecognizer,
  SpeechSynthesizer,
  Alerts,
  AudioPlayer,
  PlaybackController,
  Speaker,
  Settings,
  System,
] as const;

type Spec = (typeof INTERFACES)[number];
type AnySpec = InterfaceSpec<string, Codecs, Codecs, Codecs>;

/** Every interface's spec, reachable by namespace. */
export const INTERFACE_BY_NAMESPACE: ReadonlyMap<string, AnySpec> = new Map(
  INTERFACES.map((spec): [string, AnySpec] => [spec.namespace, spec]),
);

/** The messages of one namespace: a header naming each, and its payload's decoded type. */
type Messages<NS extends string, C extends Codecs> = {
  [N in keyof C & string]: {
    header: { namespace: NS; name: N; messageId: string; dialogRequestId?: string };
    payload: t.TypeOf<C[N]>;
  };
}[keyof C & string];

type DirectivesOf<S> = S extends InterfaceSpec<infer NS, infer D, infer _E, infer _C> ? Messages<NS, D> : never;
type EventsOf<S> = S extends InterfaceSpec<infer NS, infer _D, infer E, infer _C> ? Messages<NS, E> : never;

type ContextOf<S> =
  S extends InterfaceSpec<infer NS, infer _D, infer _E, infer C>
    ? { [N in keyof C & string]: { header: { namespace: NS; name: N }; payload: t.TypeOf<C[N]> } }[keyof C & string]
    : never;

/** Any decoded directive of the eight interfaces (§2.2). Narrow with `isDirective`. */
export type Directive = DirectivesOf<Spec>;
/** Any event of the eight interfaces (§2.1), the `event` object of the metadata part. */
export type AvsEvent = EventsOf<Spec>;
/** Any context entry of the eight interfaces (§2.3). */
export type ContextEntry = ContextOf<Spec>;

/** The `metadata` part of an event request (§2.1). */
export interface EventMessage {
  readonly context?: ContextEntry[];
  readonly event: AvsEvent;
}

/** Directives by namespace, then name. */
export type DirectiveMap = {
  [NS in Directive['header']['namespace']]: { [D in Extract<Directive, { header: { namespace: NS } }> as D['header']['name']]: D };
};
export type DirectiveNamespace = keyof DirectiveMap;
export type DirectiveName<NS extends DirectiveNamespace> = keyof DirectiveMap[NS] & string;
export type DirectiveOf<NS extends DirectiveNamespace, N extends DirectiveName<NS>> = DirectiveMap[NS][N] extends infer D
  ? D extends Directive
    ? D
    : never
  : never;

/** Events by namespace, then name. */
export type EventMap = {
  [NS in AvsEvent['header']['namespace']]: { [E in Extract<AvsEvent, { header: { namespace: NS } }> as E['header']['name']]: E };
};
export type EventNamespace = keyof EventMap;
export type EventName<NS extends EventNamespace> = keyof EventMap[NS] & string;
export type EventPayload<NS extends EventNamespace, N extends EventName<NS>> = EventMap[NS][N] extends { payload: infer P } ? P : never;

/** Context entries by namespace, then name. */
export type ContextMap = {
  [NS in ContextEntry['header']['namespace']]: {
    [C in Extract<ContextEntry, { header: { namespace: NS } }> as C['header']['name']]: C;
  };
};
export type ContextNamespace = keyof ContextMap;
export type ContextName<NS extends ContextNamespace> = keyof ContextMap[NS] & string;
export type ContextPayload<NS extends ContextNamespace, N extends ContextName<NS>> = ContextMap[NS][N] extends { payload: infer P }
  ? P
  : never;

/**
 * Narrows a directive by namespace and name. TypeScript does not narrow a union on a nested
 * discriminant (`d.header.name === 'Speak'` leaves `d.payload` a union), so this guard does it.
 */
export const isDirective = <NS extends DirectiveNamespace, N extends DirectiveName<NS>>(
  d: Directive,
  namespace: NS,
  name: N,
): d is DirectiveOf<NS, N> => d.header.namespace === namespace && d.header.name === name;

/** `Namespace.Name` of a header. */
export const qualifiedName = (h: { namespace: string; name: string }): string => `${h.namespace}.${h.name}`;

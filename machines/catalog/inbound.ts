// How a directive reaches a machine: the router sends `DIRECTIVE.<Name>` with the decoded payload
// and the ids the machine needs to report back (CONVENTIONS.md event names). A machine whose
// directive blocks the dialog queue (§4.4 step 3: Speak) reports DIRECTIVE.COMPLETED when it has
// finished, DIRECTIVE.FAILED when it could not carry it out; the router cancels one with
// DIRECTIVE.CANCEL (a new dialog, §4.4 step 1).
import type { Directive, DirectiveName, DirectiveNamespace, DirectiveOf } from './interfaces';

export type DirectiveEventOf<NS extends DirectiveNamespace, N extends DirectiveName<NS>> = {
  readonly type: `DIRECTIVE.${N}`;
  readonly payload: DirectiveOf<NS, N>['payload'];
  readonly messageId: string;
  readonly dialogRequestId?: string;
  /** When it arrived (the device's clock): the time of whatever it asks for that has none of its own. */
  readonly receivedAt: number;
};

/** Every directive event of one namespace. */
export type DirectiveEventsOf<NS extends DirectiveNamespace> = { [N in DirectiveName<NS>]: DirectiveEventOf<NS, N> }[DirectiveName<NS>];

export type AnyDirectiveEvent = { [NS in DirectiveNamespace]: DirectiveEventsOf<NS> }[DirectiveNamespace];

/** The event a machine receives for a decoded directive. */
export function directiveEvent(directive: Directive, receivedAt: number): AnyDirectiveEvent {
  const { header, payload } = directive;
  return {
    type: `DIRECTIVE.${header.name}`,
    payload,
    messageId: header.messageId,
    receivedAt,
    ...(header.dialogRequestId !== undefined ? { dialogRequestId: header.dialogRequestId } : {}),
  } as AnyDirectiveEvent;
}

/** What a machine emits about a blocking directive it was given. */
export type DirectiveReport =
  | { readonly type: 'DIRECTIVE.COMPLETED'; readonly messageId: string }
  | { readonly type: 'DIRECTIVE.FAILED'; readonly messageId: string; readonly message: string }
  /**
   * Ended early by the device, not by a fault (a local stop, focus taken by the user): the rest
   * of its dialog must not run (no microphone opening after the user stopped Alexa), and there is
   * nothing to report to AVS.
   */
  | { readonly type: 'DIRECTIVE.STOPPED'; readonly messageId: string; readonly reason: string };

/** Sent to a machine to stop a directive it is carrying out (§4.4 step 1). */
export type DirectiveCancel = { readonly type: 'DIRECTIVE.CANCEL'; readonly messageId: string };


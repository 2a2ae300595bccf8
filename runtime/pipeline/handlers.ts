// What the router hands a directive to: one handler per namespace. A handler for a machine sends
// it `DIRECTIVE.<Name>`; for a directive that blocks the dialog queue (§4.4 step 3) it waits for
// the machine's DIRECTIVE.COMPLETED / DIRECTIVE.FAILED, and cancelling it sends DIRECTIVE.CANCEL.
import { Observable } from 'rxjs';
import type { AnyActorRef } from 'xstate';
import { directiveEvent, type Directive, type DirectiveReport } from '../../machines/catalog';
import type { ExceptionErrorType } from '../../machines/system/messages';

/** A directive that could not be carried out, with the §11.4 error type to report. */
export class DirectiveError extends Error {
  constructor(
    readonly type: ExceptionErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'DirectiveError';
  }
}

/**
 * A directive the device ended early on purpose (a local stop, the user took the channel): its
 * dialog ends with it, and AVS is told nothing (it is not a fault).
 */
export class DirectiveStopped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'DirectiveStopped';
  }
}

export interface DirectiveHandler {
  readonly namespace: string;
  /** Why this directive cannot be carried out here (→ UNSUPPORTED_OPERATION), or undefined. */
  refuse?(directive: Directive): string | undefined;
  /** Carries it out: completes when done, errors when it failed; unsubscribing cancels it. */
  handle(directive: Directive, receivedAt: number): Observable<void>;
  /** A directive of this namespace that did not decode (already answered ExceptionEncountered): the document as parsed, if it parsed. */
  rejected?(name: string, doc: unknown): void;
}

export interface MachineHandlerOptions {
  /** See DirectiveHandler.rejected. */
  readonly rejected?: (name: string, doc: unknown) => void;
  /** Names that hold the dialog queue until the machine reports them done (§4.4 step 3). */
  readonly blocking?: readonly string[];
  /** Names this device does not carry out (→ UNSUPPORTED_OPERATION), with the reason. */
  readonly refuse?: (directive: Directive) => string | undefined;
}

const isReport = (e: { type: string }): e is DirectiveReport => e.type === 'DIRECTIVE.COMPLETED' || e.type === 'DIRECTIVE.FAILED' || e.type === 'DIRECTIVE.STOPPED';

/** A machine that died (an error in one of its actions) cannot carry out anything more. */
const failedActor = (actor: AnyActorRef): DirectiveError | undefined => {
  const snapshot = actor.getSnapshot() as { status?: string; error?: unknown };
  if (snapshot.status === 'error') return new DirectiveError('INTERNAL_ERROR', `the ${actor.id} machine failed: ${String(snapshot.error)}`);
  if (snapshot.status === 'stopped') return new DirectiveError('INTERNAL_ERROR', `the ${actor.id} machine is stopped`);
  return undefined;
};

export function machineHandler(namespace: string, actor: AnyActorRef, options: MachineHandlerOptions = {}): DirectiveHandler {
  const blocking = new Set(options.blocking ?? []);
  return {
    namespace,
    ...(options.refuse ? { refuse: options.refuse } : {}),
    ...(options.rejected ? { rejected: options.rejected } : {}),
    handle: (directive, receivedAt) =>
      new Observable<void>((subscriber) => {
        const dead = failedActor(actor);
        if (dead) {
          subscriber.error(dead);
          return;
        }
        const { messageId } = directive.header;
        const waits = blocking.has(directive.header.name);
        let settled = !waits;
        const listener = waits
          ? actor.on('*', (e: { type: string }) => {
              if (!isReport(e) || e.messageId !== messageId) return;
              settled = true;
              if (e.type === 'DIRECTIVE.COMPLETED') subscriber.complete();
              else if (e.type === 'DIRECTIVE.STOPPED') subscriber.error(new DirectiveStopped(e.reason));
              else subscriber.error(new DirectiveError('INTERNAL_ERROR', e.message));
            })
          : undefined;
        actor.send(directiveEvent(directive, receivedAt));
        const after = failedActor(actor);
        if (after) subscriber.error(after);
        else if (!waits) subscriber.complete();
        return () => {
          listener?.unsubscribe();
          if (!settled && actor.getSnapshot().status === 'active') actor.send({ type: 'DIRECTIVE.CANCEL', messageId });
        };
      }),
  };
}

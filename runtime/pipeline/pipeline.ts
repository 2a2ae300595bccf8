// The directive pipeline (DESIGN.md "How a directive flows", PROTOCOL.md §4.3–§4.4, §2.2, §11.4):
// every part from AVS (downchannel and answers alike) → decoded directive → sequencer → router →
// the handler of its namespace. Whatever cannot be carried out is answered with exactly one
// System.ExceptionEncountered holding the directive as received, and the pipeline goes on.
import { Subject, type Observable } from 'rxjs';
import { formatDecodeError, qualifiedName, type Directive } from '../../machines/catalog';
import type { ExceptionErrorType } from '../../machines/system/messages';
import type { AvsPart } from '../../services/multipart';
import type { Logger } from '../../services/log/logger';
import { DirectiveError, DirectiveStopped, type DirectiveHandler } from './handlers';
import { DirectiveSequencer, type Outcome } from './sequencer';

export interface PipelineItem {
  readonly namespace: string;
  readonly name: string;
  readonly messageId: string;
  readonly dialogRequestId?: string;
  readonly directive: Directive;
  /** The directive as received, for ExceptionEncountered (§11.4 `unparsedDirective`). */
  readonly text: string;
  readonly receivedAt: number;
}

/** §11.4: what the System machine turns into ExceptionEncountered. */
export interface ExceptionReport {
  readonly unparsedDirective: string;
  readonly errorType: ExceptionErrorType;
  readonly message: string;
}

export interface PipelineOptions {
  readonly handlers: readonly DirectiveHandler[];
  /** Sends ExceptionEncountered (through the System machine). */
  readonly reportException: (report: ExceptionReport) => void;
  /** A System.Exception part (§11.3: logged, never answered). */
  readonly onSystemException?: (code: string, description: string | undefined) => void;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** §2.2: the SDK's text for a directive nobody handles. */
const UNSUPPORTED = 'Unsupported operation';

export class DirectivePipeline {
  private readonly handlers = new Map<string, DirectiveHandler>();
  private readonly sequencer: DirectiveSequencer<PipelineItem>;
  private readonly directives = new Subject<PipelineItem>();
  private readonly inFlight = new Set<string>();
  private readonly now: () => number;
  /** Every directive accepted for carrying out, decoded, in arrival order. */
  readonly directives$: Observable<PipelineItem> = this.directives.asObservable();
  /** What became of each directive (done, failed, cancelled, dropped). */
  readonly outcomes$: Observable<Outcome<PipelineItem>>;

  constructor(private readonly options: PipelineOptions) {
    this.now = options.now ?? Date.now;
    for (const h of options.handlers) this.handlers.set(h.namespace, h);
    this.sequencer = new DirectiveSequencer<PipelineItem>((item) => this.route(item), {
      // A directive this device does not carry out is answered, but it does not end the dialog.
      failureCancelsDialog: (e) => !(e instanceof DirectiveError && e.type === 'UNSUPPORTED_OPERATION'),
    });
    this.outcomes$ = this.sequencer.outcomes$;
    this.sequencer.outcomes$.subscribe((o) => this.settled(o));
  }

  /** The current dialogRequestId (§2.4). */
  get dialogRequestId(): string | undefined {
    return this.sequencer.dialogRequestId;
  }

  /** §4.4 step 1: a Recognize with this dialogRequestId is about to go. */
  startDialog(dialogRequestId: string): void {
    this.sequencer.startDialog(dialogRequestId);
  }

  /** Takes one part from AVS. Never throws. */
  accept(part: AvsPart): void {
    const log = this.options.logger;
    switch (part.kind) {
      case 'attachment':
      case 'skipped':
        // Attachments are read by the directive naming them (through the attachment store).
        return;
      case 'exception': {
        if (part.result.kind === 'ok') {
          const { code, description } = part.result.value.payload;
          log.warn({ code, description }, 'AVS sent System.Exception');
          this.options.onSystemException?.(code, description ?? undefined);
        } else log.warn({ text: part.text.slice(0, 500) }, 'an unreadable System.Exception part');
        return;
      }
      case 'directive':
        return this.acceptDirective(part.text, part.result);
    }
  }

  stop(): void {
    this.sequencer.stop();
    this.directives.complete();
  }

  private acceptDirective(text: string, result: Extract<AvsPart, { kind: 'directive' }>['result']): void {
    const log = this.options.logger;
    const header = result.header;
    // §4.4 step 2 / §11.4: a directive of a dialog that is over is dropped silently, readable or not
    // (a readable one through the sequencer, which reports it dropped).
    if (result.kind !== 'ok' && header?.dialogRequestId !== undefined && !this.sequencer.isCurrent(header.dialogRequestId)) {
      log.info({ directive: qualifiedName(header), messageId: header.messageId, dialogRequestId: header.dialogRequestId }, 'dropped: not the current dialog');
      return;
    }
    if (result.kind === 'invalid') {
      // §2.2: a broken envelope or payload is not carried out; in a dialog it fails the dialog (§4.4 step 4).
      const message = formatDecodeError(result.error);
      log.warn({ directive: header ? qualifiedName(header) : undefined, messageId: header?.messageId, error: message }, 'malformed directive');
      this.except(text, 'UNEXPECTED_INFORMATION_RECEIVED', message);
      if (header?.dialogRequestId !== undefined) this.sequencer.cancelDialog(header.dialogRequestId, `a malformed ${qualifiedName(header)} in the dialog`);
      const handler = header ? this.handlers.get(header.namespace) : undefined;
      if (header && handler?.rejected) {
        try {
          handler.rejected(header.name, JSON.parse(text) as unknown);
        } catch {
          // Not JSON: nothing more can be said about it.
        }
      }
      return;
    }
    if (result.kind === 'unsupported') {
      log.warn({ directive: qualifiedName(result.header), messageId: result.header.messageId }, 'unsupported directive');
      this.except(text, 'UNSUPPORTED_OPERATION', `${UNSUPPORTED}: ${qualifiedName(result.header)}`);
      return;
    }
    const d = result.value;
    const item: PipelineItem = {
      namespace: d.header.namespace,
      name: d.header.name,
      messageId: d.header.messageId,
      ...(d.header.dialogRequestId !== undefined ? { dialogRequestId: d.header.dialogRequestId } : {}),
      directive: d,
      text,
      receivedAt: this.now(),
    };
    if (!this.sequencer.isCurrent(item.dialogRequestId)) {
      this.sequencer.push(item);
      return;
    }
    // §2.2 (SDK): the same messageId while one is being handled is refused.
    if (this.inFlight.has(item.messageId)) {
      log.warn({ directive: qualifiedName(d.header), messageId: item.messageId }, 'a directive with this messageId is already being handled');
      this.except(text, 'INTERNAL_ERROR', 'messageIdIsAlreadyInUse');
      return;
    }
    const handler = this.handlers.get(item.namespace);
    const refusal = handler ? handler.refuse?.(d) : `${UNSUPPORTED}: ${qualifiedName(d.header)}`;
    if (refusal !== undefined) {
      log.warn({ directive: qualifiedName(d.header), messageId: item.messageId, reason: refusal }, 'directive not carried out');
      this.except(text, 'UNSUPPORTED_OPERATION', refusal);
      return;
    }
    log.debug({ directive: qualifiedName(d.header), messageId: item.messageId, dialogRequestId: item.dialogRequestId }, 'directive');
    this.inFlight.add(item.messageId);
    this.directives.next(item);
    this.sequencer.push(item);
  }

  private route(item: PipelineItem): Observable<void> {
    const handler = this.handlers.get(item.namespace);
    if (!handler) throw new DirectiveError('UNSUPPORTED_OPERATION', `${UNSUPPORTED}: ${item.namespace}.${item.name}`);
    return handler.handle(item.directive, item.receivedAt);
  }

  private settled(outcome: Outcome<PipelineItem>): void {
    const { item } = outcome;
    this.inFlight.delete(item.messageId);
    const log = this.options.logger;
    const fields = { directive: `${item.namespace}.${item.name}`, messageId: item.messageId, dialogRequestId: item.dialogRequestId };
    switch (outcome.kind) {
      case 'failed': {
        const e = outcome.error;
        if (e instanceof DirectiveStopped) {
          log.info({ ...fields, reason: e.message }, 'stopped by the device; the rest of its dialog is cancelled');
          return;
        }
        const type = e instanceof DirectiveError ? e.type : 'INTERNAL_ERROR';
        const message = e instanceof Error ? e.message : String(e);
        log.warn({ ...fields, error: message }, 'directive failed');
        this.except(item.text, type, message);
        return;
      }
      case 'cancelled':
      case 'dropped':
        log.info({ ...fields, reason: outcome.reason }, outcome.kind);
        return;
      case 'done':
        return;
    }
  }

  private except(unparsedDirective: string, errorType: ExceptionErrorType, message: string): void {
    try {
      this.options.reportException({ unparsedDirective, errorType, message });
    } catch (e) {
      this.options.logger.error({ error: (e as Error).message }, 'could not report ExceptionEncountered');
    }
  }
}

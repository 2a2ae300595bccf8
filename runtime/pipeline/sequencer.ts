// PROTOCOL.md §4.4: the order in which directives are carried out.
//  - A directive of the current dialog (its dialogRequestId is that of the last Recognize) joins
//    the dialog queue, carried out in arrival order; one that blocks (Speak) holds the rest until
//    it has finished.
//  - One of another dialogRequestId belongs to a dialog that is over: dropped, no answer (§11.4).
//  - One without a dialogRequestId is independent of the dialog: carried out at once, in arrival
//    order per interface (§16 #5), in a queue of its own per namespace.
//  - A new dialog (a new Recognize) cancels the old one: what runs is stopped, what waits is
//    discarded. A directive that fails cancels the rest of its dialog (§4.4 step 4).
// Carrying out a directive is an Observable: it completes when the directive is done, errors when
// it failed, and unsubscribing from it cancels it.
import { Subject, type Observable, type Subscription } from 'rxjs';

export interface Sequenced {
  readonly namespace: string;
  readonly messageId: string;
  readonly dialogRequestId?: string;
}

export type Outcome<T> =
  | { readonly kind: 'done'; readonly item: T }
  | { readonly kind: 'failed'; readonly item: T; readonly error: unknown }
  /** It was running or waiting when its dialog ended (a new Recognize, or a failure in it). */
  | { readonly kind: 'cancelled'; readonly item: T; readonly reason: string }
  /** Never started: it belongs to a dialog that is not the current one. */
  | { readonly kind: 'dropped'; readonly item: T; readonly reason: string };

interface Running<T> {
  readonly item: T;
  subscription?: Subscription;
  /** Cancelled before its subscription was known (it cancelled its own dialog while starting). */
  cancelled: boolean;
}

interface Lane<T> {
  readonly queue: T[];
  running?: Running<T>;
  pumping: boolean;
}

export interface SequencerOptions {
  /** Whether a failure of this kind ends the dialog (§4.4 step 4); every failure does by default. */
  readonly failureCancelsDialog?: (error: unknown) => boolean;
}

export class DirectiveSequencer<T extends Sequenced> {
  private readonly outcomes = new Subject<Outcome<T>>();
  /** Every directive's fate, in the order they were settled. */
  readonly outcomes$: Observable<Outcome<T>> = this.outcomes.asObservable();
  private current: string | undefined;
  private readonly dialog: Lane<T> = { queue: [], pumping: false };
  private readonly independent = new Map<string, Lane<T>>();
  private stopped = false;

  constructor(
    private readonly run: (item: T) => Observable<unknown>,
    private readonly options: SequencerOptions = {},
  ) {}

  /** The current dialogRequestId: that of the last Recognize (§2.4), until its dialog is cancelled. */
  get dialogRequestId(): string | undefined {
    return this.current;
  }

  /** Whether a directive with this dialogRequestId (or none) would be carried out now. */
  isCurrent(dialogRequestId: string | undefined): boolean {
    return dialogRequestId === undefined || dialogRequestId === this.current;
  }

  /** §4.4 step 1: a Recognize made `id` the current dialog; the old one's directives are cancelled. */
  startDialog(id: string): void {
    if (id === this.current) return;
    const old = this.current;
    this.current = id;
    if (old !== undefined) this.cancelLane(this.dialog, `a new dialog ${id} began`);
  }

  /** Ends the dialog `id` if it is the current one: nothing more of it runs (§4.4 step 4). */
  cancelDialog(id: string, reason: string): void {
    if (id !== this.current) return;
    this.current = undefined;
    this.cancelLane(this.dialog, reason);
  }

  push(item: T): void {
    if (this.stopped) return;
    if (item.dialogRequestId === undefined) {
      let lane = this.independent.get(item.namespace);
      if (!lane) this.independent.set(item.namespace, (lane = { queue: [], pumping: false }));
      lane.queue.push(item);
      this.pump(lane);
      return;
    }
    if (item.dialogRequestId !== this.current) {
      this.outcomes.next({ kind: 'dropped', item, reason: `dialogRequestId ${item.dialogRequestId} is not the current dialog` });
      return;
    }
    this.dialog.queue.push(item);
    this.pump(this.dialog);
  }

  /** Directives waiting or running, for tests and the inspector. */
  get pending(): number {
    let n = this.dialog.queue.length + (this.dialog.running ? 1 : 0);
    for (const lane of this.independent.values()) n += lane.queue.length + (lane.running ? 1 : 0);
    return n;
  }

  /** Cancels everything and accepts nothing more. */
  stop(): void {
    this.stopped = true;
    this.cancelLane(this.dialog, 'the device stopped');
    for (const lane of this.independent.values()) this.cancelLane(lane, 'the device stopped');
    this.outcomes.complete();
  }

  private pump(lane: Lane<T>): void {
    if (lane.pumping) return;
    lane.pumping = true;
    try {
      while (!lane.running && lane.queue.length > 0) this.start(lane, lane.queue.shift() as T);
    } finally {
      lane.pumping = false;
    }
  }

  private start(lane: Lane<T>, item: T): void {
    const running: Running<T> = { item, cancelled: false };
    lane.running = running;
    let settled = false;
    const settle = (outcome: Outcome<T>) => {
      if (settled || running.cancelled) return false;
      settled = true;
      if (lane.running === running) lane.running = undefined;
      this.outcomes.next(outcome);
      return true;
    };
    const fail = (error: unknown) => {
      if (!settle({ kind: 'failed', item, error })) return;
      const id = item.dialogRequestId;
      if (lane === this.dialog && id !== undefined && (this.options.failureCancelsDialog?.(error) ?? true)) {
        this.cancelDialog(id, `${item.namespace} directive ${item.messageId} of the dialog failed`);
      }
      this.pump(lane);
    };
    let source: Observable<unknown>;
    try {
      source = this.run(item);
    } catch (e) {
      fail(e);
      return;
    }
    const subscription = source.subscribe({
      error: fail,
      complete: () => {
        if (settle({ kind: 'done', item })) this.pump(lane);
      },
    });
    if (running.cancelled) subscription.unsubscribe();
    else if (!settled) running.subscription = subscription;
  }

  private cancelLane(lane: Lane<T>, reason: string): void {
    const running = lane.running;
    lane.running = undefined;
    const waiting = lane.queue.splice(0);
    if (running) {
      running.cancelled = true;
      running.subscription?.unsubscribe();
      this.outcomes.next({ kind: 'cancelled', item: running.item, reason });
    }
    for (const item of waiting) this.outcomes.next({ kind: 'cancelled', item, reason });
  }
}

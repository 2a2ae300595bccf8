// Sends the outbox to AVS over the current session, in order, with the §1.5.4 handling of each
// answer (the decision is machines/connection/policy; this carries it out).
import type { Observable } from 'rxjs';
import { eventNeedsContext, type ContextEntry } from '../../machines/catalog';
import { BACKOFF_TABLE_MS } from '../../machines/connection/backoff';
import { eventResponseAction, isStateReport, MAX_EVENT_ATTEMPTS, mustReachAvs } from '../../machines/connection/policy';
import type { AvsPart } from '../multipart';
import type { Outbox, OutboxEntry } from '../outbox/outbox';
import type { EventResponse } from './session';
import type { TokenSource } from './tokens';

export type SenderReport =
  | { readonly kind: 'sent'; readonly entry: OutboxEntry; readonly status: number }
  /** AVS refused it for good (400, or 500 after the bounded retries): it is not resent (§1.5.4). */
  | { readonly kind: 'refused'; readonly entry: OutboxEntry; readonly status: number; readonly reason: string }
  /** Not connected, and it need not survive that (§1.7: the SDK's NOT_CONNECTED). */
  | { readonly kind: 'not-connected'; readonly name: string }
  /** The outbox is full: the event could not be queued. */
  | { readonly kind: 'outbox-full'; readonly name: string }
  /** It waits for the next connection (the session ended, or AVS keeps refusing the token). */
  | { readonly kind: 'held'; readonly entry: OutboxEntry; readonly reason: string }
  /** A newer state report of the same kind replaced it before it went (§10.3: only the state now matters). */
  | { readonly kind: 'superseded'; readonly entry: OutboxEntry };

export interface EventSenderOptions {
  readonly outbox: Outbox;
  readonly tokens: TokenSource;
  /** Where the answers' directives go (the directive pipeline). */
  readonly onParts: (parts$: Observable<AvsPart>) => void;
  readonly onReport?: (report: SenderReport) => void;
  /** Waiting between retries (injectable so tests need not wait). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** [0, 1) for retry jitter. */
  readonly random?: () => number;
  /**
   * The device's context now (§2.3: "current at the moment the event is built"). An event that
   * carries context gets a fresh one each time it is posted, however long it waited in the outbox.
   */
  readonly context?: () => readonly ContextEntry[];
  /**
   * A state report (§10.3: VolumeChanged, MuteChanged) goes at most this often per kind; one made
   * sooner waits out the rest of the interval, replaced by any newer one meanwhile (a turned knob
   * sends its last volume, not every step). Default 100 ms; 0 sends each at once.
   */
  readonly stateReportIntervalMs?: number;
  /** The time (ms), for the state-report interval. */
  readonly now?: () => number;
}

type Delivery = 'sent' | 'dropped' | 'held';

/** What the sender needs of a session (an AvsSession, or a fake in tests). */
export interface EventChannel {
  readonly isOpen: boolean;
  post(metadata: object | string, audio?: AsyncIterable<Buffer | Uint8Array>): Promise<EventResponse>;
}

/** How long sendNow waits for the events queued before it (§1.7 event timeout, SDK v1.21). */
const QUEUE_WAIT_MS = 15_000;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class EventSender {
  private session: EventChannel | undefined;
  private draining = false;
  /** The id of the entry being posted (a newer state report does not replace it mid-flight). */
  private sending: number | undefined;
  /** sendNow calls waiting for the events queued before them; each posts as soon as it may. */
  private waiters: (() => boolean)[] = [];
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  /** State reports waiting out their interval, by `Namespace.Name`. */
  private readonly stateSlots = new Map<string, { entry: OutboxEntry; timer: NodeJS.Timeout }>();
  /** When each kind of state report last went into the outbox. */
  private readonly stateQueuedAt = new Map<string, number>();
  private readonly stateIntervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: EventSenderOptions) {
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.stateIntervalMs = options.stateReportIntervalMs ?? 100;
    this.now = options.now ?? Date.now;
  }

  get connected(): boolean {
    return this.session?.isOpen ?? false;
  }

  /** Connected (after SynchronizeState, §1.6 step 5): send what waits, in order. */
  attach(session: EventChannel): void {
    this.session = session;
    void this.drain();
  }

  /** The connection is gone: hold the durable events, drop the others (§1.7). */
  detach(): void {
    this.session = undefined;
    for (const entry of this.options.outbox.dropTransient()) this.report({ kind: 'not-connected', name: entry.name });
    this.wake();
  }

  /**
   * Queues an event. One that must reach AVS (§7.5) waits for a connection; any other is
   * dropped when there is none.
   */
  enqueue(namespace: string, name: string, message: object): boolean {
    const key = `${namespace}.${name}`;
    const durable = mustReachAvs(namespace, name);
    if (!durable && !this.connected) {
      this.report({ kind: 'not-connected', name: key });
      return false;
    }
    const state = isStateReport(namespace, name);
    if (state) {
      // §10.3: the state now is what AVS needs. One that waits its interval is replaced.
      const slot = this.stateSlots.get(key);
      if (slot) {
        this.report({ kind: 'superseded', entry: slot.entry });
        slot.entry = { ...slot.entry, message };
        return true;
      }
      const wait = (this.stateQueuedAt.get(key) ?? -Infinity) + this.stateIntervalMs - this.now();
      if (wait > 0) {
        const timer = setTimeout(() => {
          const waiting = this.stateSlots.get(key);
          this.stateSlots.delete(key);
          if (waiting) this.queueState(key, waiting.entry.message);
        }, wait);
        timer.unref?.();
        this.stateSlots.set(key, { entry: { id: 0, name: key, message, durable: true }, timer });
        return true;
      }
      return this.queueState(key, message);
    }
    if (!this.options.outbox.add(key, message, durable)) {
      this.report({ kind: 'outbox-full', name: key });
      return false;
    }
    void this.drain();
    return true;
  }

  /** A state report into the outbox, replacing one of its kind that waits there (not the one being sent). */
  private queueState(key: string, message: object): boolean {
    this.stateQueuedAt.set(key, this.now());
    for (const old of this.options.outbox.supersede(key, this.sending)) this.report({ kind: 'superseded', entry: old });
    if (!this.options.outbox.add(key, message, true, false)) {
      this.report({ kind: 'outbox-full', name: key });
      return false;
    }
    void this.drain();
    return true;
  }

  /**
   * Sends on the current session without keeping a copy (SynchronizeState, Recognize with live
   * audio), after the events queued before it (§1.7: one FIFO — a SpeechFinished goes before the
   * Recognize that answers the ExpectSpeech behind it). `message` may be a function: it is then
   * built when its turn comes, so its context is that moment's (§2.3). An aborted `signal` drops
   * it if it has not gone yet.
   */
  sendNow(
    message: object | (() => object),
    audio?: AsyncIterable<Buffer | Uint8Array>,
    session = this.session,
    signal?: AbortSignal,
  ): Promise<EventResponse> {
    return new Promise<EventResponse>((resolve, reject) => {
      const go = () => {
        if (signal?.aborted) return reject(new Error('cancelled before it was sent'));
        if (!session?.isOpen) return reject(new Error('not connected'));
        let body: object;
        try {
          body = typeof message === 'function' ? message() : message;
        } catch (e) {
          return reject(e instanceof Error ? e : new Error(String(e)));
        }
        // Posted synchronously here, so nothing queued later can slip in before it.
        session.post(body, audio).then((response) => {
          if (response.status === 200) this.options.onParts(response.parts$);
          resolve(response);
        }, reject);
      };
      const tail = session && session === this.session ? this.options.outbox.tail() : undefined;
      if (!tail) return go();
      // An event AVS keeps refusing (held, retried with backoff) must not keep the user waiting
      // for ever: after a while this one goes anyway.
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((c) => c !== check);
        go();
      }, QUEUE_WAIT_MS);
      timer.unref?.();
      const check = (): boolean => {
        if (this.options.outbox.has(tail.id) && this.session === session && session?.isOpen === true && !signal?.aborted) return false;
        clearTimeout(timer);
        go();
        return true;
      };
      if (check()) return;
      this.waiters.push(check);
      signal?.addEventListener('abort', () => this.wake(), { once: true });
    });
  }

  private wake(): void {
    this.waiters = this.waiters.filter((check) => !check());
  }

  private withFreshContext(message: object): object {
    const context = this.options.context;
    const header = (message as { event?: { header?: { namespace?: unknown; name?: unknown } } }).event?.header;
    if (!context || typeof header?.namespace !== 'string' || typeof header.name !== 'string') return message;
    if (!eventNeedsContext(header.namespace, header.name)) return message;
    return { ...message, context: [...context()] };
  }

  private report(r: SenderReport): void {
    this.options.onReport?.(r);
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    let held = 0;
    try {
      for (;;) {
        const session = this.session;
        const entry = this.options.outbox.peek();
        if (!session?.isOpen || !entry) return;
        this.sending = entry.id;
        const delivery = await this.deliver(session, entry).finally(() => (this.sending = undefined));
        this.wake();
        if (delivery !== 'held') {
          held = 0;
          continue;
        }
        // Held on a session that is still the current one and open (its stream was reset, or AVS
        // keeps refusing the token): try again after a growing delay rather than freeze. A new or
        // lost session is taken care of by the loop's next look.
        if (this.session === session && session.isOpen) await this.sleep(this.backoff(++held));
      }
    } finally {
      this.draining = false;
      this.wake();
    }
  }

  /** §1.8 table with jitter, for retries of one event. */
  private backoff(attempt: number): number {
    const base = BACKOFF_TABLE_MS[Math.min(attempt, BACKOFF_TABLE_MS.length) - 1];
    return Math.round(base * (2 / 3 + this.random() * (3 / 2 - 2 / 3)));
  }

  private async deliver(session: EventChannel, entry: OutboxEntry): Promise<Delivery> {
    const outbox = this.options.outbox;
    let refreshed = false;
    let attempt = 0;
    let throttled = 0;
    for (;;) {
      attempt++;
      let response: EventResponse;
      try {
        response = await session.post(this.withFreshContext(entry.message));
      } catch (e) {
        // The session ended before an answer: the event keeps its place for the next connection.
        this.report({ kind: 'held', entry, reason: (e as Error).message });
        return 'held';
      }
      const action = eventResponseAction(response.status);
      switch (action) {
        case 'done':
          outbox.remove(entry.id);
          if (response.status === 200) this.options.onParts(response.parts$);
          this.report({ kind: 'sent', entry, status: response.status });
          return 'sent';
        case 'report-and-drop': {
          outbox.remove(entry.id);
          const body = await response.exception;
          this.report({ kind: 'refused', entry, status: response.status, reason: describe(body) });
          return 'dropped';
        }
        case 'refresh-token-and-retry':
          if (refreshed) {
            this.report({ kind: 'held', entry, reason: 'AVS refused the fresh token too (403)' });
            return 'held';
          }
          refreshed = true;
          try {
            await this.options.tokens.refresh();
          } catch (e) {
            this.report({ kind: 'held', entry, reason: `no fresh token: ${(e as Error).message}` });
            return 'held';
          }
          attempt--; // the retry after a refresh is not one of the bounded ones
          break;
        case 'back-off-and-retry':
          // §1.5.4 429/503: the event keeps its place; wait longer each time.
          throttled++;
          attempt--;
          await this.sleep(this.backoff(throttled));
          break;
        case 'retry-bounded':
          if (attempt >= MAX_EVENT_ATTEMPTS) {
            outbox.remove(entry.id);
            this.report({ kind: 'refused', entry, status: response.status, reason: `still ${response.status} after ${attempt} attempts` });
            return 'dropped';
          }
          await this.sleep(this.backoff(attempt));
          break;
      }
      if (!session.isOpen || this.session !== session) {
        this.report({ kind: 'held', entry, reason: 'the connection ended while waiting to retry' });
        return 'held';
      }
    }
  }
}

function describe(body: Awaited<EventResponse['exception']>): string {
  if (!body) return 'no System.Exception body';
  if (body.kind !== 'ok') return 'an unreadable System.Exception body';
  return `${body.value.payload.code}${body.value.payload.description ? `: ${body.value.payload.description}` : ''}`;
}

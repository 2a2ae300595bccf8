// What the simulator saw: one record per request, the events in arrival order (available while
// their audio still streams), the downchannels opened, and the JSON-lines trace file.
import { appendFileSync, writeFileSync } from 'node:fs';

export type RequestKind = 'downchannel' | 'event' | 'ping' | 'lwa' | 'capabilities' | 'media' | 'control' | 'other';

/** The `audio` part of an event (PROTOCOL.md §1.4), as it streamed in. */
export interface AudioStats {
  bytes: number;
  /** Reads of the request stream that carried audio (≈ HTTP/2 DATA frames). */
  chunks: number;
  firstChunkAt?: number;
  lastChunkAt?: number;
  /** When each chunk arrived and how many audio bytes it held. */
  arrivals: { at: number; bytes: number }[];
}

export interface RequestRecord {
  /** Order of completion, from 1. */
  readonly seq: number;
  /** When the request arrived, ms since the epoch. */
  readonly at: number;
  readonly connection: number;
  readonly protocol: 'h2' | 'http/1.1';
  readonly method: string;
  readonly path: string;
  /** The status sent; 0 when none was (the client or a fault ended the exchange first). */
  readonly status: number;
  /** Request headers, without `authorization` and `x-amz-access-token`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly kind: RequestKind;
  /** The event's metadata JSON (§2.1), when it parsed. */
  readonly event?: unknown;
  readonly audio?: AudioStats;
  readonly durationMs: number;
  /** The exchange ended before the simulator finished it (reset, connection lost). */
  readonly aborted?: boolean;
  /** Why the request was refused, in a few words. */
  readonly note?: string;
}

/** The §2.1 metadata document of an event, as received. */
export interface EventDocument {
  readonly context?: readonly unknown[];
  readonly event: {
    readonly header: { readonly namespace: string; readonly name: string; readonly messageId?: string; readonly dialogRequestId?: string } & Readonly<
      Record<string, unknown>
    >;
    readonly payload: Readonly<Record<string, unknown>>;
  };
}

export interface ReceivedEvent {
  /** Arrival order, from 0. */
  readonly index: number;
  /** `Namespace.Name`. */
  readonly name: string;
  readonly document: EventDocument;
  readonly connection: number;
  /** What decodeEvent made of it; Alexa.* events of §13.1 are `unsupported` there. */
  readonly decode: 'ok' | 'invalid' | 'unsupported';
  /** Live while the audio streams in. */
  readonly audio?: AudioStats;
  /** The request's record, once the exchange is over. */
  readonly completed: Promise<RequestRecord>;
}

export interface DownchannelInfo {
  /** 1 for the first downchannel since start, 2 for the next (a reconnect), … */
  readonly nth: number;
  readonly connection: number;
  readonly openedAt: number;
}

/** A line of the trace file besides the request records. */
export type TraceNote =
  | { readonly type: 'downchannel'; readonly state: 'opened' | 'closed'; readonly nth: number; readonly connection: number; readonly at: number }
  | {
      readonly type: 'push';
      readonly at: number;
      readonly connection?: number;
      readonly delivery: 'sent' | 'queued' | 'dropped';
      readonly directives: readonly string[];
      readonly fault?: string;
    }
  | { readonly type: 'fault'; readonly at: number; readonly fault: string };

interface Waiter<T> {
  readonly match: (item: T) => boolean;
  readonly resolve: (item: T) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class Recorder {
  readonly records: RequestRecord[] = [];
  readonly received: ReceivedEvent[] = [];
  readonly downchannels: DownchannelInfo[] = [];
  private seq = 0;
  /** Received events dropped by `forget` (indices go on counting from them). */
  private forgotten = 0;
  private eventWaiters = new Set<Waiter<ReceivedEvent>>();
  private downchannelWaiters = new Set<Waiter<DownchannelInfo>>();
  private audioWaiters = new Set<Waiter<ReceivedEvent>>();

  constructor(private readonly tracePath?: string) {
    if (tracePath) writeFileSync(tracePath, '');
  }

  record(fields: Omit<RequestRecord, 'seq'>): RequestRecord {
    const record: RequestRecord = { seq: ++this.seq, ...fields };
    this.records.push(record);
    this.trace({ type: 'request', ...record });
    return record;
  }

  note(line: TraceNote): void {
    this.trace(line);
  }

  eventArrived(event: Omit<ReceivedEvent, 'index'>): ReceivedEvent {
    const received: ReceivedEvent = { index: this.forgotten + this.received.length, ...event };
    this.received.push(received);
    for (const w of this.eventWaiters) if (w.match(received)) this.settle(this.eventWaiters, w, received);
    return received;
  }

  /** An event's audio grew (its `audio` object was updated in place). */
  audioArrived(event: ReceivedEvent): void {
    for (const w of this.audioWaiters) if (w.match(event)) this.settle(this.audioWaiters, w, event);
  }

  /** The first event whose audio matches, now or as it streams in. */
  waitForAudio(match: (e: ReceivedEvent) => boolean, timeoutMs: number): Promise<ReceivedEvent> {
    const found = this.received.find((e) => e.audio !== undefined && match(e));
    if (found) return Promise.resolve(found);
    return this.wait(this.audioWaiters, (e) => e.audio !== undefined && match(e), timeoutMs, () => `no audio as expected within ${timeoutMs} ms`);
  }

  downchannelOpened(connection: number): DownchannelInfo {
    const info: DownchannelInfo = { nth: this.downchannels.length + 1, connection, openedAt: Date.now() };
    this.downchannels.push(info);
    this.note({ type: 'downchannel', state: 'opened', nth: info.nth, connection, at: info.openedAt });
    for (const w of this.downchannelWaiters) if (w.match(info)) this.settle(this.downchannelWaiters, w, info);
    return info;
  }

  downchannelClosed(info: DownchannelInfo): void {
    this.note({ type: 'downchannel', state: 'closed', nth: info.nth, connection: info.connection, at: Date.now() });
  }

  waitForEvent(match: (e: ReceivedEvent) => boolean, timeoutMs: number, from: number, what: string): Promise<ReceivedEvent> {
    const found = this.received.slice(Math.max(0, from - this.forgotten)).find(match);
    if (found) return Promise.resolve(found);
    return this.wait(this.eventWaiters, match, timeoutMs, () => {
      const seen = this.received.slice(Math.max(0, from - this.forgotten)).map((e) => e.name);
      return `no event ${what} within ${timeoutMs} ms (received: ${seen.join(', ') || 'nothing'})`;
    });
  }

  /** The `nth` downchannel, once it opened; without `nth`, any downchannel open now or the next. */
  waitForDownchannel(nth: number | undefined, timeoutMs: number, isOpen: () => DownchannelInfo | undefined): Promise<DownchannelInfo> {
    if (nth === undefined) {
      const open = isOpen();
      if (open) return Promise.resolve(open);
    } else if (this.downchannels.length >= nth) {
      return Promise.resolve(this.downchannels[nth - 1]);
    }
    const target = nth ?? this.downchannels.length + 1;
    return this.wait(this.downchannelWaiters, (d) => d.nth === target, timeoutMs, () => {
      return `downchannel #${target} did not open within ${timeoutMs} ms (${this.downchannels.length} opened so far)`;
    });
  }

  /**
   * Drops the request records and received events kept so far, so a long run (the soak) holds
   * only what came since; seq numbers and event indices go on counting.
   */
  forget(): void {
    this.records.splice(0);
    this.forgotten += this.received.length;
    this.received.splice(0);
  }

  /** Pending waits fail: the simulator stopped. */
  close(): void {
    for (const set of [this.eventWaiters, this.downchannelWaiters, this.audioWaiters] as Set<Waiter<never>>[]) {
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(new Error('the simulator stopped'));
      }
      set.clear();
    }
  }

  private wait<T>(set: Set<Waiter<T>>, match: (item: T) => boolean, timeoutMs: number, describe: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          set.delete(waiter);
          reject(new Error(describe()));
        }, timeoutMs),
      };
      set.add(waiter);
    });
  }

  private settle<T>(set: Set<Waiter<T>>, w: Waiter<T>, item: T): void {
    set.delete(w);
    clearTimeout(w.timer);
    w.resolve(item);
  }

  private trace(line: object): void {
    // Synchronous on purpose: each line is whole on disk the moment it is written, so a test or a
    // crashed run can read the trace at any time.
    if (this.tracePath) appendFileSync(this.tracePath, `${JSON.stringify(line)}\n`);
  }
}

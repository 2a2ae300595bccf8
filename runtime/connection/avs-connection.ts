// The device's connection to AVS: the connection machine with its real actors (HTTP/2 session,
// SynchronizeState, capabilities, tokens), the event sender and its outbox, and one stream of
// every directive that arrives — on the downchannel or in an answer to an event.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { catchError, EMPTY, mergeMap, Observable, Subject, type Subscription } from 'rxjs';
import { createActor, fromCallback, fromPromise, type Actor, type ActorOptions } from 'xstate';
import { buildEvent, type ContextEntry } from '../../machines/catalog';
import { EndpointUrl, endpointBaseUrl } from '../../machines/envelope/primitives';
import {
  connectionMachine,
  type CapabilitiesOutput,
  type SessionCommand,
  type SessionInput,
  type SynchronizeOutput,
} from '../../machines/connection/machine';
import type { AttachmentStore, AvsPart } from '../../services/multipart';
import { MemoryOutbox, type Outbox } from '../../services/outbox/outbox';
import type { KeyValueStore } from '../../services/store/kv';
import {
  AvsSession,
  EventSender,
  SessionError,
  type CapabilitiesPublisher,
  type EventResponse,
  type SenderReport,
  type TokenSource,
} from '../../services/transport';

export interface AvsConnectionOptions {
  /** The AVS base URL (or the one persisted from a SetEndpoint). */
  readonly endpoint: string;
  readonly tokens: TokenSource;
  /** The full context (§2.3) at the moment it is asked for (SynchronizeState, §1.6 step 5). */
  readonly context: () => ContextEntry[];
  /** §13; without one, nothing is published (the product's defaults apply). */
  readonly capabilities?: CapabilitiesPublisher;
  /** Extra CA (PEM) for a private endpoint, or the file that holds it (the simulator's `ca <path>`). */
  readonly ca?: string | Buffer;
  readonly caFile?: string;
  /** Where the endpoint set by SetEndpoint is kept across restarts (§11.3); it wins over `endpoint`. */
  readonly store?: KeyValueStore;
  readonly outbox?: Outbox;
  readonly attachments?: AttachmentStore;
  /** The device's random seed for backoff jitter; a fresh random one when not given. */
  readonly seed?: number;
  /** XState clock for the machine's delays (a SimulatedClock in tests). */
  readonly clock?: ActorOptions<typeof connectionMachine>['clock'];
  readonly now?: () => number;
  readonly maxRetryDelayMs?: number;
  readonly pingIdleMs?: number;
  readonly pingTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** §11.3: persist a new endpoint. */
  readonly onEndpointChanged?: (endpoint: string) => void;
  readonly onReport?: (report: SenderReport) => void;
  /** A multipart body (downchannel or answer) broke off; the directives before the break were delivered. */
  readonly onBodyError?: (error: Error) => void;
}

export type ConnectionActor = Actor<typeof connectionMachine>;

/** The store key of the endpoint a SetEndpoint chose. */
export const ENDPOINT_KEY = 'avs.endpoint';

/** The base URL an endpoint value means (a bare host is https), if it is a usable http(s) one. */
const usableEndpoint = (endpoint: string): string | undefined => (EndpointUrl.is(endpoint) ? endpointBaseUrl(endpoint) : undefined);

export class AvsConnection {
  /** Every directive and attachment from AVS, in arrival order per source (§4.3: one pipeline). */
  readonly directives$: Observable<AvsPart>;
  readonly actor: ConnectionActor;
  readonly sender: EventSender;
  readonly outbox: Outbox;

  private readonly sources = new Subject<Observable<AvsPart>>();
  private readonly directives = new Subject<AvsPart>();
  private session: AvsSession | undefined;
  private readonly subscriptions: Subscription[] = [];
  private readonly ca: string | Buffer | undefined;
  private started = false;

  constructor(private readonly options: AvsConnectionOptions) {
    const now = options.now ?? Date.now;
    this.ca = options.ca ?? (options.caFile ? readFileSync(options.caFile) : undefined);
    this.outbox = options.outbox ?? new MemoryOutbox();
    // Hot: every source (downchannel, each answer) is read as it comes, whoever listens. A source
    // that breaks off (a truncated or corrupt body) ends alone — the stream of directives goes on;
    // what it delivered before the break stays delivered.
    this.subscriptions.push(
      this.sources
        .pipe(
          mergeMap((source) =>
            source.pipe(
              catchError((e: unknown) => {
                options.onBodyError?.(e instanceof Error ? e : new Error(String(e)));
                return EMPTY;
              }),
            ),
          ),
        )
        .subscribe(this.directives),
    );
    this.directives$ = this.directives.asObservable();
    this.sender = new EventSender({
      outbox: this.outbox,
      tokens: options.tokens,
      onParts: (parts$) => this.sources.next(parts$),
      onReport: options.onReport,
      context: options.context,
    });

    const machine = connectionMachine.provide({
      actors: {
        authorize: fromPromise<void, { refresh: boolean }>(async ({ input }) => {
          if (input.refresh || !options.tokens.current()) await options.tokens.refresh();
        }),
        publishCapabilities: fromPromise<CapabilitiesOutput, { endpoint: string }>(async ({ input }) => {
          if (!options.capabilities) return { status: 204 };
          const startedAt = now();
          const result = await options.capabilities.publish(input.endpoint);
          // A PUT that was made is a connection attempt too (the 50-in-10-minutes bound).
          return result.skipped ? { status: result.status } : { status: result.status, startedAt };
        }),
        session: fromCallback<SessionCommand, SessionInput>(({ input, sendBack, receive }) => this.runSession(input, sendBack, receive, now)),
        synchronize: fromPromise<SynchronizeOutput, { endpoint: string }>(async () => {
          const session = this.session;
          if (!session) throw new Error('no session');
          // §1.6 step 5: the first event, with the full context; nothing else goes before it.
          const message = buildEvent('System', 'SynchronizeState', {}, { context: options.context() });
          const response = await this.sender.sendNow(message, undefined, session);
          return { status: response.status };
        }),
      },
    });

    this.actor = createActor(machine, {
      input: {
        // A stored endpoint that is no longer usable must not keep the device from connecting.
        endpoint: usableEndpoint(options.store?.get(ENDPOINT_KEY) ?? '') ?? options.endpoint,
        seed: options.seed ?? randomBytes(4).readUInt32LE(0),
        maxRetryDelayMs: options.maxRetryDelayMs,
        pingIdleMs: options.pingIdleMs,
        pingTimeoutMs: options.pingTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs,
      },
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.actor.on('ENDPOINT.CHANGED', (e) => {
      options.store?.set(ENDPOINT_KEY, e.endpoint);
      options.onEndpointChanged?.(e.endpoint);
    });

    // Events flow only while CONNECTED (after SynchronizeState); leaving it holds or drops them (§1.7).
    let connected = false;
    this.actor.subscribe((snapshot) => {
      const now = snapshot.matches({ ONLINE: 'CONNECTED' });
      if (now && !connected && this.session) this.sender.attach(this.session);
      if (!now && connected) this.sender.detach();
      connected = now;
    });
  }

  /** Starts connecting (and keeps the connection up until `stop`). */
  start(): this {
    this.started = true;
    this.actor.start();
    this.actor.send({ type: 'USER.CONNECT' });
    return this;
  }

  /** Closes the connection on purpose; durable events stay in the outbox. */
  async stop(): Promise<void> {
    if (!this.started || this.actor.getSnapshot().status !== 'active') return;
    this.started = false;
    if (!this.actor.getSnapshot().matches('DISCONNECTED')) {
      const closed = new Promise<void>((resolve) => {
        const sub = this.actor.subscribe((s) => {
          if (s.matches('DISCONNECTED')) {
            sub.unsubscribe();
            resolve();
          }
        });
      });
      this.actor.send({ type: 'USER.DISCONNECT' });
      await closed;
    }
    this.actor.stop();
    this.sources.complete();
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    this.directives.complete();
  }

  /** Whether events can go now. */
  get connected(): boolean {
    return this.actor.getSnapshot().matches({ ONLINE: 'CONNECTED' });
  }

  /** Queues an event for AVS (§1.7 order; durable ones survive a lost connection). */
  send(message: { event: { header: { namespace: string; name: string } } }): boolean {
    return this.sender.enqueue(message.event.header.namespace, message.event.header.name, message);
  }

  /**
   * Sends after the events queued before it, with streamed audio (Recognize, §1.4); fails when not
   * connected. A function is built when its turn comes (fresh context); `signal` drops it before then.
   */
  sendNow(message: object | (() => object), audio?: AsyncIterable<Buffer | Uint8Array>, signal?: AbortSignal): Promise<EventResponse> {
    if (!this.connected) return Promise.reject(new Error('not connected'));
    return this.sender.sendNow(message, audio, undefined, signal);
  }

  /**
   * §11.3: hands a SetEndpoint directive's endpoint to the machine, as a base URL (a bare
   * `host[:port]` means https). False, and nothing changes, for one that is not usable.
   */
  setEndpoint(endpoint: string): boolean {
    const url = usableEndpoint(endpoint);
    if (!url) return false;
    this.actor.send({ type: 'DIRECTIVE.SetEndpoint', endpoint: url });
    return true;
  }

  /** The session actor: one AvsSession for the life of the machine's ONLINE state. */
  private runSession(
    input: SessionInput,
    sendBack: (e: { type: 'SESSION.OPENED'; at: number; startedAt: number } | { type: 'SESSION.FAILED'; at: number; startedAt: number; reason: string; status?: number } | { type: 'SESSION.LOST'; at: number; reason: string } | { type: 'SESSION.CLOSED' }) => void,
    receive: (listener: (command: SessionCommand) => void) => void,
    now: () => number,
  ): () => void {
    const startedAt = now();
    let stopped = false;
    let session: AvsSession | undefined;
    let pending: AvsSession | undefined;
    const failed = (e: Error) => {
      if (stopped) return;
      const status = e instanceof SessionError ? e.status : undefined;
      sendBack({ type: 'SESSION.FAILED', at: now(), startedAt, reason: e.message, ...(status !== undefined ? { status } : {}) });
    };
    let ready: Promise<AvsSession>;
    try {
      const started = AvsSession.start({
        endpoint: input.endpoint,
        token: () => this.options.tokens.current(),
        ca: this.ca,
        attachments: this.options.attachments,
        pingIdleMs: input.pingIdleMs,
        pingTimeoutMs: input.pingTimeoutMs,
        connectTimeoutMs: input.connectTimeoutMs,
        now,
      });
      pending = started.session;
      ready = started.ready;
    } catch (e) {
      ready = Promise.reject(new SessionError(`cannot connect to ${input.endpoint}: ${(e as Error).message}`));
    }
    ready.then(
      (opened) => {
        pending = undefined;
        if (stopped) {
          void opened.close();
          return;
        }
        session = opened;
        this.session = opened;
        this.sources.next(opened.directives$);
        opened.lost$.subscribe((reason) => {
          if (!stopped) sendBack({ type: 'SESSION.LOST', at: now(), reason });
        });
        sendBack({ type: 'SESSION.OPENED', at: now(), startedAt });
      },
      (e: Error) => {
        pending = undefined;
        failed(e);
      },
    );
    receive((command) => {
      if (command.type !== 'CLOSE') return;
      const closing = session;
      stopped = true;
      if (!closing) return sendBack({ type: 'SESSION.CLOSED' });
      void closing.close().then(() => sendBack({ type: 'SESSION.CLOSED' }));
    });
    return () => {
      stopped = true;
      // Still connecting: give up on it now, leave nothing connecting behind.
      pending?.destroy();
      if (this.session === session) this.session = undefined;
      void session?.close();
    };
  }
}

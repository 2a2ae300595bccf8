// The connection to AVS as a statechart (PROTOCOL.md §1.6–§1.10, §11.3 SetEndpoint, §13).
// It decides; the actors it invokes do the I/O (the runtime provides them):
//   authorize            — a usable access token (fresh when asked), or fails when there is none
//   publishCapabilities  — §13 PUT of the device's interfaces (skipped when unchanged)
//   session              — one HTTP/2 session + downchannel; reports OPENED / FAILED / LOST / CLOSED
//   synchronize          — §1.6 step 5: System.SynchronizeState with the full context
import { assign, enqueueActions, fromCallback, fromPromise, sendTo, setup } from 'xstate';
import { logAttempt, retryDelay } from './backoff';

export interface ConnectionInput {
  /** The AVS base URL (§1.1), or the persisted one from an earlier SetEndpoint. */
  readonly endpoint: string;
  /** Seed of this device's random source (from a real random source, never from the clock). */
  readonly seed: number;
  /** Upper bound of one backoff delay (§1.8 table; the SDK's last value is 64 s). */
  readonly maxRetryDelayMs?: number;
  /** §1.9: idle time before a ping, and how long the ping may take. */
  readonly pingIdleMs?: number;
  readonly pingTimeoutMs?: number;
  /** §1.6 step 4: how long the downchannel may take to answer (the SDK gives 60 s). */
  readonly connectTimeoutMs?: number;
}

export interface ConnectionContext {
  endpoint: string;
  /** Why the last attempt or session ended, for logs and the inspector. */
  lastError: string | undefined;
  /** Consecutive failed attempts (reset by a completed connection). */
  failures: number;
  /** Start times of recent connection attempts (the 50-in-10-minutes bound). */
  attempts: number[];
  /** State of the device's PRNG (backoff jitter). */
  rng: number;
  /** The delay chosen for WAITING_TO_RETRY. */
  retryDelayMs: number;
  /**
   * A 403 since the last completed connection: the token in hand was refused, so each attempt
   * gets a fresh one — and a second 403 waits out a backoff delay instead of looping at once.
   */
  tokenRefused: boolean;
  readonly maxRetryDelayMs: number;
  readonly pingIdleMs: number;
  readonly pingTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export type ConnectionEvent =
  | { type: 'USER.CONNECT' }
  | { type: 'USER.DISCONNECT' }
  /** Authorization has a token now (e.g. the user finished linking). */
  | { type: 'TOKEN.AVAILABLE' }
  /** The downchannel answered 200 (§1.6 step 4). */
  | { type: 'SESSION.OPENED'; at: number; startedAt: number }
  /** The attempt failed before the downchannel opened; `status` when AVS answered. */
  | { type: 'SESSION.FAILED'; at: number; startedAt: number; reason: string; status?: number }
  /** An open session ended: GOAWAY, downchannel closed or reset, socket error, failed ping (§1.9, §1.10). */
  | { type: 'SESSION.LOST'; at: number; reason: string }
  /** A session asked to close has closed. */
  | { type: 'SESSION.CLOSED' }
  /** §11.3 */
  | { type: 'DIRECTIVE.SetEndpoint'; endpoint: string };

/** What the machine tells the runtime. */
export type ConnectionEmitted = { type: 'ENDPOINT.CHANGED'; endpoint: string };

export interface SessionInput {
  readonly endpoint: string;
  readonly pingIdleMs: number;
  readonly pingTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

/** What the session actor can be told. */
export type SessionCommand = { type: 'CLOSE' };

export interface SynchronizeOutput {
  /** HTTP status of the SynchronizeState event. */
  readonly status: number;
}

export interface CapabilitiesOutput {
  readonly status: number;
  /** When the PUT started, if one was made (it counts toward the attempt bound); absent when skipped. */
  readonly startedAt?: number;
}

const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/**
 * The machine has no clock of its own: times come with the session's events. Where a failure
 * carries none, the start of the last attempt stands in — earlier than the truth, so the
 * 50-in-10-minutes bound errs on the side of waiting longer.
 */
const lastKnownTime = (context: ConnectionContext): number => context.attempts[context.attempts.length - 1] ?? 0;

export const connectionMachine = setup({
  types: {
    context: {} as ConnectionContext,
    events: {} as ConnectionEvent,
    input: {} as ConnectionInput,
    emitted: {} as ConnectionEmitted,
  },
  actors: {
    authorize: fromPromise<void, { refresh: boolean }>(async () => {
      throw new Error('authorize: provided by the runtime');
    }),
    publishCapabilities: fromPromise<CapabilitiesOutput, { endpoint: string }>(async () => {
      throw new Error('publishCapabilities: provided by the runtime');
    }),
    session: fromCallback<SessionCommand, SessionInput>(() => {
      throw new Error('session: provided by the runtime');
    }),
    synchronize: fromPromise<SynchronizeOutput, { endpoint: string }>(async () => {
      throw new Error('synchronize: provided by the runtime');
    }),
  },
  guards: {
    succeeded: (_, params: { status: number }) => isSuccess(params.status),
    /** A first 403: refresh the token and go again at once. */
    unauthorized: ({ context }, params: { status: number | undefined }) => params.status === 403 && !context.tokenRefused,
    /** §13: 500 (and 429/503, overload) are worth another try — and so is a second 403 in a row, after a delay. */
    retriable: (_, params: { status: number }) => params.status >= 500 || params.status === 429 || params.status === 403,
    sameEndpoint: ({ context }, params: { endpoint: string }) => params.endpoint === context.endpoint,
  },
  actions: {
    /** §1.8: choose the next delay (jitter from the device's PRNG, the 50-in-10-min bound). */
    scheduleRetry: assign(({ context }, params: { at: number; reason: string }) => {
      const { delayMs, rng } = retryDelay({
        failures: context.failures + 1,
        attempts: context.attempts,
        now: params.at,
        rng: context.rng,
        capMs: context.maxRetryDelayMs,
      });
      return { failures: context.failures + 1, retryDelayMs: delayMs, rng, lastError: params.reason };
    }),
    /** A lost session: reconnect from the top of the table (§1.8 "reset after a success"). */
    scheduleReconnect: assign(({ context }, params: { at: number; reason: string }) => {
      const { delayMs, rng } = retryDelay({ failures: 1, attempts: context.attempts, now: params.at, rng: context.rng, capMs: context.maxRetryDelayMs });
      return { failures: 1, retryDelayMs: delayMs, rng, lastError: params.reason };
    }),
    logAttempt: assign(({ context }, params: { startedAt: number | undefined }) =>
      params.startedAt === undefined ? {} : { attempts: logAttempt(context.attempts, params.startedAt) },
    ),
    connected: assign({ failures: 0, lastError: undefined, tokenRefused: false }),
    tokenRefused: assign({ tokenRefused: true }),
    noteError: assign((_, params: { reason: string }) => ({ lastError: params.reason })),
    /** §11.3: use it from now on, and tell the runtime to persist it. */
    adoptEndpoint: enqueueActions(({ enqueue }, params: { endpoint: string }) => {
      enqueue.assign({ endpoint: params.endpoint });
      enqueue.emit({ type: 'ENDPOINT.CHANGED', endpoint: params.endpoint });
    }),
    closeSession: sendTo('session', { type: 'CLOSE' }),
  },
  delays: {
    retryDelay: ({ context }) => context.retryDelayMs,
    closeTimeout: 5000,
  },
}).createMachine({
  id: 'connection',
  context: ({ input }) => ({
    endpoint: input.endpoint,
    lastError: undefined,
    failures: 0,
    attempts: [],
    rng: input.seed >>> 0,
    retryDelayMs: 0,
    tokenRefused: false,
    maxRetryDelayMs: input.maxRetryDelayMs ?? 64_000,
    pingIdleMs: input.pingIdleMs ?? 5 * 60_000,
    pingTimeoutMs: input.pingTimeoutMs ?? 15_000,
    connectTimeoutMs: input.connectTimeoutMs ?? 60_000,
  }),
  initial: 'DISCONNECTED',
  on: {
    // §11.3: remember it (and have it persisted); the same endpoint again is ignored. ONLINE
    // overrides this to move the live session there.
    'DIRECTIVE.SetEndpoint': [
      { guard: { type: 'sameEndpoint', params: ({ event }) => ({ endpoint: event.endpoint }) } },
      { actions: { type: 'adoptEndpoint', params: ({ event }) => ({ endpoint: event.endpoint }) } },
    ],
  },
  states: {
    DISCONNECTED: {
      on: {
        'USER.CONNECT': 'AUTHORIZING',
      },
    },
    /** §1.6 step 1: no connection without a token. */
    AUTHORIZING: {
      invoke: {
        src: 'authorize',
        input: ({ context }) => ({ refresh: context.tokenRefused }),
        onDone: { target: 'PUBLISHING_CAPABILITIES' },
        // No token to be had (not linked yet, or LWA unreachable): ask again after a backoff
        // delay, or at once when authorization says it has one.
        onError: {
          target: 'WAITING_TO_RETRY',
          actions: { type: 'scheduleRetry', params: ({ context, event }) => ({ at: lastKnownTime(context), reason: `no token: ${String(event.error)}` }) },
        },
      },
      on: {
        'USER.DISCONNECT': 'DISCONNECTED',
      },
    },
    /** §1.6 step 2 / §13: publish the interfaces before connecting (the actor skips it when unchanged). */
    PUBLISHING_CAPABILITIES: {
      invoke: {
        src: 'publishCapabilities',
        input: ({ context }) => ({ endpoint: context.endpoint }),
        onDone: [
          {
            guard: { type: 'succeeded', params: ({ event }) => ({ status: event.output.status }) },
            target: 'ONLINE',
            actions: { type: 'logAttempt', params: ({ event }) => ({ startedAt: event.output.startedAt }) },
          },
          {
            guard: { type: 'unauthorized', params: ({ event }) => ({ status: event.output.status }) },
            target: 'AUTHORIZING',
            actions: [{ type: 'logAttempt', params: ({ event }) => ({ startedAt: event.output.startedAt }) }, 'tokenRefused'],
          },
          {
            guard: { type: 'retriable', params: ({ event }) => ({ status: event.output.status }) },
            target: 'WAITING_TO_RETRY',
            actions: [
              { type: 'logAttempt', params: ({ event }) => ({ startedAt: event.output.startedAt }) },
              { type: 'scheduleRetry', params: ({ context, event }) => ({ at: event.output.startedAt ?? lastKnownTime(context), reason: `capabilities: ${event.output.status}` }) },
            ],
          },
          {
            // §13: 400 (and any other answer) is a fault in the software, not something a retry mends.
            target: 'FAILED',
            actions: { type: 'noteError', params: ({ event }) => ({ reason: `capabilities refused with ${event.output.status}` }) },
          },
        ],
        onError: {
          target: 'WAITING_TO_RETRY',
          actions: { type: 'scheduleRetry', params: ({ context, event }) => ({ at: lastKnownTime(context), reason: `capabilities: ${String(event.error)}` }) },
        },
      },
      on: { 'USER.DISCONNECT': 'DISCONNECTED' },
    },
    /** One HTTP/2 session, alive through CONNECTING, POST_CONNECTING and CONNECTED (§1.6). */
    ONLINE: {
      invoke: {
        id: 'session',
        src: 'session',
        input: ({ context }) => ({
          endpoint: context.endpoint,
          pingIdleMs: context.pingIdleMs,
          pingTimeoutMs: context.pingTimeoutMs,
          connectTimeoutMs: context.connectTimeoutMs,
        }),
      },
      initial: 'CONNECTING',
      on: {
        // Lost before the connection completed: a failed attempt like any other (§1.8 resets the
        // counter only after a success).
        'SESSION.LOST': {
          target: 'WAITING_TO_RETRY',
          actions: { type: 'scheduleRetry', params: ({ event }) => ({ at: event.at, reason: event.reason }) },
        },
        // §11.3: a new endpoint: drop this session and connect there.
        'DIRECTIVE.SetEndpoint': [
          { guard: { type: 'sameEndpoint', params: ({ event }) => ({ endpoint: event.endpoint }) } },
          {
            // Leaving ONLINE and coming back tears this session down and opens one there.
            target: '#connection.ONLINE',
            reenter: true,
            actions: { type: 'adoptEndpoint', params: ({ event }) => ({ endpoint: event.endpoint }) },
          },
        ],
        'USER.DISCONNECT': '.DISCONNECTING',
      },
      states: {
        /** §1.6 steps 3–4: connection and downchannel. */
        CONNECTING: {
          on: {
            'SESSION.OPENED': {
              target: 'POST_CONNECTING',
              actions: { type: 'logAttempt', params: ({ event }) => ({ startedAt: event.startedAt }) },
            },
            'SESSION.FAILED': [
              {
                guard: { type: 'unauthorized', params: ({ event }) => ({ status: event.status }) },
                target: '#connection.AUTHORIZING',
                actions: [{ type: 'logAttempt', params: ({ event }) => ({ startedAt: event.startedAt }) }, 'tokenRefused'],
              },
              {
                target: '#connection.WAITING_TO_RETRY',
                actions: [
                  { type: 'logAttempt', params: ({ event }) => ({ startedAt: event.startedAt }) },
                  { type: 'scheduleRetry', params: ({ event }) => ({ at: event.at, reason: event.reason }) },
                ],
              },
            ],
          },
        },
        /** §1.6 step 5: SynchronizeState before anything else; connected only once it is accepted. */
        POST_CONNECTING: {
          invoke: {
            src: 'synchronize',
            input: ({ context }) => ({ endpoint: context.endpoint }),
            onDone: [
              { guard: { type: 'succeeded', params: ({ event }) => ({ status: event.output.status }) }, target: 'CONNECTED', actions: 'connected' },
              {
                guard: { type: 'unauthorized', params: ({ event }) => ({ status: event.output.status }) },
                target: '#connection.AUTHORIZING',
                actions: 'tokenRefused',
              },
              {
                target: '#connection.WAITING_TO_RETRY',
                actions: { type: 'scheduleRetry', params: ({ context, event }) => ({ at: lastKnownTime(context), reason: `SynchronizeState answered ${event.output.status}` }) },
              },
            ],
            onError: {
              target: '#connection.WAITING_TO_RETRY',
              actions: { type: 'scheduleRetry', params: ({ context, event }) => ({ at: lastKnownTime(context), reason: `SynchronizeState failed: ${String(event.error)}` }) },
            },
          },
        },
        /**
         * Events flow (services/transport). A 403 on an event is handled there with a fresh
         * token: §1.6 step 7, new requests carry the new token, open streams are unaffected.
         */
        CONNECTED: {
          on: {
            // A completed connection ended: reconnect from the top of the table (§1.8).
            'SESSION.LOST': {
              target: '#connection.WAITING_TO_RETRY',
              actions: { type: 'scheduleReconnect', params: ({ event }) => ({ at: event.at, reason: event.reason }) },
            },
          },
        },
        /** Closing on purpose: in-flight work may finish (bounded), then DISCONNECTED. */
        DISCONNECTING: {
          entry: 'closeSession',
          on: {
            'SESSION.CLOSED': '#connection.DISCONNECTED',
            'SESSION.LOST': '#connection.DISCONNECTED',
            'USER.DISCONNECT': {},
            // Closing anyway: just remember a new one for the next connection.
            'DIRECTIVE.SetEndpoint': [
              { guard: { type: 'sameEndpoint', params: ({ event }) => ({ endpoint: event.endpoint }) } },
              { actions: { type: 'adoptEndpoint', params: ({ event }) => ({ endpoint: event.endpoint }) } },
            ],
          },
          after: { closeTimeout: '#connection.DISCONNECTED' },
        },
      },
    },
    /** §1.8: wait, then try again (through AUTHORIZING: a token may have expired meanwhile). */
    WAITING_TO_RETRY: {
      after: { retryDelay: 'AUTHORIZING' },
      on: {
        'USER.DISCONNECT': 'DISCONNECTED',
        'TOKEN.AVAILABLE': 'AUTHORIZING',
      },
    },
    /** A fault no retry mends (§13: capabilities refused as malformed); a new USER.CONNECT tries again. */
    FAILED: {
      on: { 'USER.CONNECT': 'AUTHORIZING', 'USER.DISCONNECT': 'DISCONNECTED' },
    },
  },
});

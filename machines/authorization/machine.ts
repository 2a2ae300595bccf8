// PROTOCOL.md §12: Login with Amazon — how the device gets, keeps and loses its tokens. Three ways
// to link end in the same LINKED state: code-based linking (§12.1: UNLINKED → REQUESTING_CODE_PAIR
// → WAITING_FOR_USER, polling at the interval given, slower on slow_down, a new code pair when one
// expires, §16 #10), a companion app or site sending an authorization code (§12.4, §12.5:
// EXCHANGING_CODE), and tokens handed in by a local app or pushed by the site. LINKED refreshes
// ahead of expiry (§12.3: 10 minutes before, as the SDK) and at once when AVS refuses the token;
// a revoked refresh token (invalid_grant) unlinks; a configuration error (invalid_client …) is ERROR.
// Every request is an actor the runtime provides (services/lwa); the machine only decides.
import { assign, emit, fromPromise, setup } from 'xstate';

/** How the device was linked (the machine shows it). */
export type LinkedBy = 'CODE_BASED_LINKING' | 'COMPANION_APP' | 'COMPANION_SITE' | 'LOCAL_APP';

export interface Tokens {
  readonly accessToken: string;
  /** Absent when the site keeps the refresh token and refreshes for the device (§12.4). */
  readonly refreshToken?: string;
  /** Seconds the access token is valid from now (§12.1 `expires_in`). */
  readonly expiresIn: number;
}

export interface CodePair {
  readonly userCode: string;
  readonly deviceCode: string;
  readonly verificationUri: string;
  /** Seconds (§12.1). */
  readonly expiresIn: number;
  readonly interval: number;
}

/** One poll of the token endpoint (§12.1 step 3), as the service read LWA's answer. */
export type PollResult =
  | { readonly kind: 'tokens'; readonly tokens: Tokens }
  | { readonly kind: 'pending' }
  | { readonly kind: 'slow_down' }
  /** invalid_code_pair, invalid_grant, expired_token: start over with a new code pair (§16 #9, #10). */
  | { readonly kind: 'expired' }
  /** 5xx, network: keep polling. */
  | { readonly kind: 'transient'; readonly message: string }
  /** invalid_client, unauthorized_client, invalid_request, unsupported_grant_type. */
  | { readonly kind: 'fatal'; readonly code: string; readonly message: string };

/** What a refresh or a code exchange failing means (§12.3). */
export type GrantFailure = { readonly kind: 'revoked' | 'fatal' | 'transient'; readonly code: string; readonly message: string };

export interface AuthorizationInput {
  /** A refresh token kept from before (the device was linked). */
  readonly refreshToken?: string;
  readonly linkedBy?: LinkedBy;
  /** §12.3: refresh this long before the access token expires (SDK: 10 minutes). */
  readonly refreshAheadMs?: number;
}

export interface AuthorizationContext {
  readonly refreshAheadMs: number;
  accessToken: string | undefined;
  refreshToken: string | undefined;
  linkedBy: LinkedBy | undefined;
  /** Ms from the last tokens to the refresh ahead of their expiry. */
  refreshInMs: number;
  codePair: CodePair | undefined;
  pollIntervalMs: number;
  /** The code a companion sent, while it is exchanged. */
  code: { code: string; redirectUri: string; clientId: string; by: LinkedBy } | undefined;
  /** Consecutive failed refreshes (their backoff). */
  refreshFailures: number;
  error: string | undefined;
}

export type AuthorizationEvent =
  /** Start code-based linking (§12.1). */
  | { type: 'USER.LOGIN' }
  /** A companion sent an authorization code (§12.4 step 4, §12.5 step 4). */
  | { type: 'USER.AUTHORIZE'; code: string; redirectUri: string; clientId: string; by: 'COMPANION_APP' | 'COMPANION_SITE' }
  /** Tokens obtained elsewhere: a local app (LWA SDK) or the companion site (§12.4). */
  | { type: 'USER.TOKENS'; tokens: Tokens; by: 'LOCAL_APP' | 'COMPANION_SITE' }
  /** Forget everything (deregistration). */
  | { type: 'USER.LOGOUT' }
  /** AVS refused the access token (403, §1.5.4): refresh now. */
  | { type: 'TOKEN.REJECTED' };

export type AuthorizationEmitted =
  /** Keep these (the runtime's token store); never logged. */
  | { type: 'TOKENS.CHANGED'; accessToken: string; refreshToken: string | undefined; expiresIn: number; linkedBy: LinkedBy }
  /** Show the user where to go and what to type (§12.1 step 2). */
  | { type: 'CODE_PAIR.READY'; userCode: string; verificationUri: string; expiresIn: number }
  /** The device is no longer linked: wipe the tokens and the customer's data (§12.2). */
  | { type: 'UNLINKED'; reason: string };

/** §12.3 (SDK): retries after 0, 1, 2, 4, 10, 30, 60 s, then 60 s. */
export const REFRESH_RETRY_MS = [0, 1000, 2000, 4000, 10_000, 30_000, 60_000];
/** §12.1 (SDK): slow_down doubles the interval, up to 60 s. */
const MAX_POLL_INTERVAL_MS = 60_000;

export const authorizationMachine = setup({
  types: {
    context: {} as AuthorizationContext,
    events: {} as AuthorizationEvent,
    input: {} as AuthorizationInput,
    emitted: {} as AuthorizationEmitted,
  },
  actors: {
    requestCodePair: fromPromise<CodePair>(async () => {
      throw new Error('requestCodePair: provided by the runtime');
    }),
    pollToken: fromPromise<PollResult, { codePair: CodePair }>(async () => {
      throw new Error('pollToken: provided by the runtime');
    }),
    exchangeCode: fromPromise<Tokens, { code: string; redirectUri: string; clientId: string }>(async () => {
      throw new Error('exchangeCode: provided by the runtime');
    }),
    refresh: fromPromise<Tokens, { refreshToken: string }>(async () => {
      throw new Error('refresh: provided by the runtime');
    }),
  },
  delays: {
    POLL_INTERVAL: ({ context }) => context.pollIntervalMs,
    CODE_PAIR_EXPIRY: ({ context }) => (context.codePair?.expiresIn ?? 600) * 1000,
    REFRESH_AHEAD: ({ context }) => context.refreshInMs,
    REFRESH_RETRY: ({ context }) => REFRESH_RETRY_MS[Math.min(context.refreshFailures, REFRESH_RETRY_MS.length) - 1] ?? 60_000,
  },
  guards: {
    hasRefreshToken: ({ context }) => context.refreshToken !== undefined,
    pollGotTokens: ({ event }) => pollResult(event)?.kind === 'tokens',
    pollSlowDown: ({ event }) => pollResult(event)?.kind === 'slow_down',
    pollExpired: ({ event }) => pollResult(event)?.kind === 'expired',
    pollFatal: ({ event }) => pollResult(event)?.kind === 'fatal',
    revoked: ({ event }) => grantFailure(event)?.kind === 'revoked',
    fatal: ({ event }) => grantFailure(event)?.kind === 'fatal',
  },
  actions: {
    keepCodePair: assign(({ event }) => {
      const pair = (event as unknown as { output?: CodePair }).output;
      return pair ? { codePair: pair, pollIntervalMs: Math.max(1, pair.interval) * 1000, error: undefined } : {};
    }),
    showCodePair: emit(({ context }) => ({
      type: 'CODE_PAIR.READY' as const,
      userCode: context.codePair?.userCode ?? '',
      verificationUri: context.codePair?.verificationUri ?? '',
      expiresIn: context.codePair?.expiresIn ?? 0,
    })),
    slowDown: assign(({ context }) => ({ pollIntervalMs: Math.min(MAX_POLL_INTERVAL_MS, context.pollIntervalMs * 2) })),
    /** New tokens, from whichever path (§12.2: a new refresh token replaces the old one). */
    takeTokens: assign(({ context }, params: { tokens: Tokens; by?: LinkedBy }) => ({
      accessToken: params.tokens.accessToken,
      refreshToken: params.tokens.refreshToken ?? context.refreshToken,
      linkedBy: params.by ?? context.linkedBy,
      refreshInMs: Math.max(0, params.tokens.expiresIn * 1000 - context.refreshAheadMs),
      codePair: undefined,
      code: undefined,
      refreshFailures: 0,
      error: undefined,
    })),
    reportTokens: emit(({ context }) => ({
      type: 'TOKENS.CHANGED' as const,
      accessToken: context.accessToken ?? '',
      refreshToken: context.refreshToken,
      expiresIn: Math.round((context.refreshInMs + context.refreshAheadMs) / 1000),
      linkedBy: context.linkedBy ?? 'LOCAL_APP',
    })),
    keepCode: assign(({ event }) => (event.type === 'USER.AUTHORIZE' ? { code: { code: event.code, redirectUri: event.redirectUri, clientId: event.clientId, by: event.by } } : {})),
    /** The access token no longer works; the refresh token is kept for the refresh. */
    dropAccessToken: assign({ accessToken: undefined }),
    forget: assign({ accessToken: undefined, refreshToken: undefined, linkedBy: undefined, codePair: undefined, code: undefined, refreshFailures: 0 }),
    unlinked: emit((_, params: { reason: string }) => ({ type: 'UNLINKED' as const, reason: params.reason })),
    noteError: assign(({ event }) => ({ error: describe(event) })),
    countFailure: assign(({ context, event }) => ({ refreshFailures: context.refreshFailures + 1, error: describe(event) })),
  },
}).createMachine({
  id: 'authorization',
  context: ({ input }) => ({
    refreshAheadMs: input.refreshAheadMs ?? 10 * 60_000,
    accessToken: undefined,
    refreshToken: input.refreshToken,
    linkedBy: input.linkedBy,
    refreshInMs: 0,
    codePair: undefined,
    pollIntervalMs: 5000,
    code: undefined,
    refreshFailures: 0,
    error: undefined,
  }),
  initial: 'STARTING',
  on: {
    // Any path, any time: tokens handed in link the device (a local app, §12.4 site pushes).
    'USER.TOKENS': { target: '.LINKED', actions: [{ type: 'takeTokens', params: ({ event }) => ({ tokens: event.tokens, by: event.by }) }, 'reportTokens'] },
    'USER.AUTHORIZE': { target: '.EXCHANGING_CODE', actions: 'keepCode' },
    'USER.LOGOUT': { target: '.UNLINKED', actions: ['forget', { type: 'unlinked', params: { reason: 'logged out' } }] },
  },
  states: {
    STARTING: {
      // A refresh token from before: linked already, a fresh access token first.
      always: [{ guard: 'hasRefreshToken', target: 'REFRESHING' }, { target: 'UNLINKED' }],
    },
    UNLINKED: {
      on: { 'USER.LOGIN': 'REQUESTING_CODE_PAIR' },
    },
    /** §12.1 step 1 */
    REQUESTING_CODE_PAIR: {
      invoke: {
        src: 'requestCodePair',
        onDone: { target: 'WAITING_FOR_USER', actions: ['keepCodePair', 'showCodePair'] },
        onError: { target: 'ERROR', actions: 'noteError' },
      },
    },
    /** §12.1 steps 2–3: the user signs in elsewhere; the device polls. */
    WAITING_FOR_USER: {
      // §16 #10: an expired code pair is replaced by a new one.
      after: { CODE_PAIR_EXPIRY: 'REQUESTING_CODE_PAIR' },
      initial: 'WAITING',
      states: {
        WAITING: { after: { POLL_INTERVAL: 'POLLING' } },
        POLLING: {
          invoke: {
            src: 'pollToken',
            input: ({ context }) => ({ codePair: context.codePair as CodePair }),
            onDone: [
              {
                guard: 'pollGotTokens',
                target: '#authorization.LINKED',
                actions: [{ type: 'takeTokens', params: ({ event }) => ({ tokens: (event.output as Extract<PollResult, { kind: 'tokens' }>).tokens, by: 'CODE_BASED_LINKING' }) }, 'reportTokens'],
              },
              { guard: 'pollSlowDown', target: 'WAITING', actions: 'slowDown' },
              { guard: 'pollExpired', target: '#authorization.REQUESTING_CODE_PAIR' },
              { guard: 'pollFatal', target: '#authorization.ERROR', actions: 'noteError' },
              // pending, transient: poll again at the current interval.
              { target: 'WAITING' },
            ],
            onError: { target: 'WAITING' },
          },
        },
      },
    },
    /** §12.4 / §12.5 step 5: the code is exchanged for tokens (with the PKCE verifier for the app flow). */
    EXCHANGING_CODE: {
      invoke: {
        src: 'exchangeCode',
        input: ({ context }) => ({ code: context.code?.code ?? '', redirectUri: context.code?.redirectUri ?? '', clientId: context.code?.clientId ?? '' }),
        onDone: { target: 'LINKED', actions: [{ type: 'takeTokens', params: ({ context, event }) => ({ tokens: event.output, by: context.code?.by ?? 'COMPANION_APP' }) }, 'reportTokens'] },
        onError: { target: 'ERROR', actions: 'noteError' },
      },
    },
    LINKED: {
      on: { 'TOKEN.REJECTED': { guard: 'hasRefreshToken', target: 'REFRESHING', actions: 'dropAccessToken' } },
      // §12.3: ahead of expiry. A site-held refresh token (none here) leaves it to the site.
      after: { REFRESH_AHEAD: { guard: 'hasRefreshToken', target: 'REFRESHING' } },
    },
    /** §12.3 */
    REFRESHING: {
      invoke: {
        src: 'refresh',
        input: ({ context }) => ({ refreshToken: context.refreshToken ?? '' }),
        onDone: { target: 'LINKED', actions: [{ type: 'takeTokens', params: ({ event }) => ({ tokens: event.output }) }, 'reportTokens'] },
        onError: [
          // §12.2: revoked (the user deregistered the device): forget everything, link again.
          { guard: 'revoked', target: 'UNLINKED', actions: ['noteError', 'forget', { type: 'unlinked', params: { reason: 'the refresh token was revoked' } }] },
          { guard: 'fatal', target: 'ERROR', actions: 'noteError' },
          { target: 'RETRYING', actions: 'countFailure' },
        ],
      },
    },
    RETRYING: {
      after: { REFRESH_RETRY: 'REFRESHING' },
      on: { 'TOKEN.REJECTED': 'REFRESHING' },
    },
    /** A configuration error (wrong client ID, product not enabled, a rejected code): nothing more until the user acts. */
    ERROR: {
      on: { 'USER.LOGIN': 'REQUESTING_CODE_PAIR', 'TOKEN.REJECTED': { guard: 'hasRefreshToken', target: 'REFRESHING' } },
    },
  },
});

function pollResult(event: unknown): PollResult | undefined {
  return (event as { output?: PollResult }).output;
}

function grantFailure(event: unknown): GrantFailure | undefined {
  const error = (event as { error?: unknown }).error;
  return error !== null && typeof error === 'object' && 'kind' in error ? (error as GrantFailure) : undefined;
}

/** A failure for the machine's context: the code and message, never a token. */
function describe(event: unknown): string {
  const failure = grantFailure(event);
  if (failure) return `${failure.code}: ${failure.message}`;
  const output = pollResult(event);
  if (output && output.kind === 'fatal') return `${output.code}: ${output.message}`;
  const error = (event as { error?: unknown }).error;
  return error instanceof Error ? error.message : String(error ?? 'unknown error');
}

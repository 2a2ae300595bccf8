// Model-based tests of the connection (§1.6–§1.10, §11.3, §13) and Login with Amazon (§12)
// machines: their invoked actors are recording fakes whose results (done and error, one sample of
// each answer the real services give) are events of the model, wherever the actor runs.
import { authorizationMachine, REFRESH_RETRY_MS } from '../../machines/authorization/machine';
import { connectionMachine } from '../../machines/connection/machine';
import { expectComplete, runModel, type SampleEvent, type Step } from './harness';

const TOKEN_PATTERN = /Atz[ar]\|/;

describe('model-based: connection and authorization', () => {
  it('connection (§1.6–§1.10): one session at a time, each step of the connect sequence by its actor, retries bounded', async () => {
    const f = await runModel('connection', connectionMachine, {
      input: { endpoint: 'https://avs.example', seed: 42, maxRetryDelayMs: 64_000 },
      byValue: true,
      // A token refused once already changes what the next 403 does (§1.6 step 7).
      summary: (s) => s.context.tokenRefused,
      drivers: ['authorize', 'publishCapabilities', 'session', 'synchronize'],
      results: {
        authorize: { done: [undefined], error: [new Error('not linked')] },
        // §13: 204 published (or skipped), 403 token refused, 500/503/429 retried, 400 a fault no retry mends.
        publishCapabilities: { done: [{ status: 204, startedAt: 1000 }, { status: 403, startedAt: 1000 }, { status: 503, startedAt: 1000 }, { status: 400, startedAt: 1000 }], error: [new Error('socket hang up')] },
        synchronize: { done: [{ status: 204 }, { status: 403 }, { status: 500 }], error: [new Error('stream reset')] },
      },
      events: [
        { type: 'USER.CONNECT' },
        { type: 'USER.DISCONNECT' },
        { type: 'TOKEN.AVAILABLE' },
        { type: 'SESSION.OPENED', at: 2000, startedAt: 1500 },
        { type: 'SESSION.FAILED', at: 2000, startedAt: 1500, reason: 'HTTP 403', status: 403 },
        { type: 'SESSION.FAILED', at: 2000, startedAt: 1500, reason: 'ECONNREFUSED' },
        { type: 'SESSION.LOST', at: 5000, reason: 'GOAWAY' },
        { type: 'SESSION.CLOSED' },
        { type: 'DIRECTIVE.SetEndpoint', endpoint: 'https://avs.example' },
        { type: 'DIRECTIVE.SetEndpoint', endpoint: 'https://avs-alexa-eu.example' },
      ],
      check: (step) => {
        const ctx = step.after.context as { endpoint: string; tokenRefused: boolean; retryDelayMs: number; failures: number; attempts: number[] };
        // Each step of §1.6 is its own actor, running exactly in its state; one session at most.
        expect(step.drivers.count('authorize')).toBe(step.after.matches('AUTHORIZING') ? 1 : 0);
        expect(step.drivers.count('publishCapabilities')).toBe(step.after.matches('PUBLISHING_CAPABILITIES') ? 1 : 0);
        expect(step.drivers.count('session')).toBe(step.after.matches('ONLINE') ? 1 : 0);
        expect(step.drivers.count('synchronize')).toBe(step.after.matches({ ONLINE: 'POST_CONNECTING' }) ? 1 : 0);
        // §1.6 step 7: after a 403 the next attempt asks for a fresh token.
        for (const input of step.drivers.startedWith('authorize')) expect(input).toEqual({ refresh: ctx.tokenRefused });
        // A session opens at the endpoint in use (§11.3: a new one moves it there).
        for (const input of step.drivers.startedWith('session')) expect(input).toMatchObject({ endpoint: ctx.endpoint });
        // §1.8: a retry waits a delay within the table's bound; §1.8 resets after a completed connection.
        if (step.after.matches('WAITING_TO_RETRY')) expect(ctx.retryDelayMs).toBeGreaterThanOrEqual(0);
        expect(ctx.retryDelayMs).toBeLessThanOrEqual(64_000);
        if (step.after.matches({ ONLINE: 'CONNECTED' })) expect(ctx.failures).toBe(0);
        expect(ctx.attempts.length).toBeLessThanOrEqual(50);
        // A second 403 in a row waits out a delay instead of looping at once.
        if (step.before.context.tokenRefused && (step.event as { output?: { status?: number }; status?: number }).output?.status === 403) expect(step.after.value).toBe('WAITING_TO_RETRY');
        // Closing on purpose tells the session to close.
        if (step.after.matches({ ONLINE: 'DISCONNECTING' }) && !step.before.matches({ ONLINE: 'DISCONNECTING' })) expect(step.drivers.told('session')).toEqual([{ type: 'CLOSE' }]);
        // §11.3: a new endpoint is adopted and persisted (ENDPOINT.CHANGED); the same one changes nothing.
        if (step.event.type === 'DIRECTIVE.SetEndpoint') {
          const endpoint = String(step.event.endpoint);
          expect(ctx.endpoint).toBe(endpoint);
          expect(step.emitted).toEqual(endpoint === step.before.context.endpoint ? [] : [{ type: 'ENDPOINT.CHANGED', endpoint }]);
        } else expect(step.emitted).toEqual([]);
      },
    });
    expectComplete(f);
  });

  it('authorization (§12): every way to link ends LINKED with tokens kept, a revoked grant unlinks and wipes', async () => {
    const withRefresh = { accessToken: 'Atza|model', refreshToken: 'Atzr|model', expiresIn: 3600 };
    const siteHeld = { accessToken: 'Atza|site', expiresIn: 3600 };
    const codePair = { userCode: 'ABC123', deviceCode: 'dev', verificationUri: 'https://amazon.com/us/code', expiresIn: 600, interval: 5 };
    const failure = (kind: string) => ({ kind, code: kind === 'revoked' ? 'invalid_grant' : kind === 'fatal' ? 'invalid_client' : 'server_error', message: kind });
    const f = await runModel('authorization', authorizationMachine, {
      // Never linked, and linked before (a refresh token kept: a fresh access token first).
      inputs: [{}, { refreshToken: 'Atzr|kept', linkedBy: 'CODE_BASED_LINKING' }],
      byValue: true,
      summary: (s) => s.context.refreshToken !== undefined,
      drivers: ['requestCodePair', 'pollToken', 'exchangeCode', 'refresh'],
      results: {
        requestCodePair: { done: [codePair], error: [failure('fatal')] },
        pollToken: {
          done: [{ kind: 'tokens', tokens: withRefresh }, { kind: 'pending' }, { kind: 'slow_down' }, { kind: 'expired' }, { kind: 'transient', message: '503' }, { kind: 'fatal', code: 'invalid_client', message: 'bad client' }],
          error: [new Error('ECONNRESET')],
        },
        exchangeCode: { done: [withRefresh], error: [failure('fatal')] },
        refresh: { done: [withRefresh], error: [failure('revoked'), failure('fatal'), failure('transient')] },
      },
      events: [
        { type: 'USER.LOGIN' },
        { type: 'USER.AUTHORIZE', code: 'code', redirectUri: 'amzn://x', clientId: 'id', by: 'COMPANION_APP' },
        { type: 'USER.TOKENS', tokens: withRefresh, by: 'LOCAL_APP' },
        { type: 'USER.TOKENS', tokens: siteHeld, by: 'COMPANION_SITE' },
        { type: 'USER.LOGOUT' },
        { type: 'TOKEN.REJECTED' },
      ],
      check: (step: Step) => {
        const ctx = step.after.context as { accessToken?: string; refreshToken?: string; error?: string; pollIntervalMs: number; codePair?: unknown; refreshFailures: number };
        // Each exchange with LWA is its own actor, running exactly in its state.
        expect(step.drivers.count('requestCodePair')).toBe(step.after.matches('REQUESTING_CODE_PAIR') ? 1 : 0);
        expect(step.drivers.count('pollToken')).toBe(step.after.matches({ WAITING_FOR_USER: 'POLLING' }) ? 1 : 0);
        expect(step.drivers.count('exchangeCode')).toBe(step.after.matches('EXCHANGING_CODE') ? 1 : 0);
        expect(step.drivers.count('refresh')).toBe(step.after.matches('REFRESHING') ? 1 : 0);
        for (const input of step.drivers.startedWith('refresh')) expect(input).toEqual({ refreshToken: ctx.refreshToken });
        for (const input of step.drivers.startedWith('pollToken')) expect(input).toEqual({ codePair: ctx.codePair });
        // Linked means an access token in hand, told to the runtime when it came.
        if (step.after.matches('LINKED')) expect(ctx.accessToken).toBeDefined();
        const changed = step.emitted.filter((e) => e.type === 'TOKENS.CHANGED');
        if (step.after.matches('LINKED') && (!step.before.matches('LINKED') || step.event.type === 'USER.TOKENS')) expect(changed).toHaveLength(1);
        for (const c of changed) expect(c).toMatchObject({ accessToken: ctx.accessToken, refreshToken: ctx.refreshToken });
        // §12.1 step 2: a code pair is shown as soon as it comes.
        if (step.after.matches('WAITING_FOR_USER') && step.before.matches('REQUESTING_CODE_PAIR')) expect(step.emitted).toEqual([{ type: 'CODE_PAIR.READY', userCode: 'ABC123', verificationUri: codePair.verificationUri, expiresIn: 600 }]);
        // §12.1: slow_down doubles the interval, up to 60 s.
        expect(ctx.pollIntervalMs).toBeLessThanOrEqual(60_000);
        // §12.2: revoked or logged out: nothing kept, and the runtime told to wipe.
        if (step.emitted.some((e) => e.type === 'UNLINKED')) {
          expect(step.after.value).toBe('UNLINKED');
          expect(ctx.accessToken).toBeUndefined();
          expect(ctx.refreshToken).toBeUndefined();
        }
        // §12.3: the refresh backoff follows the table.
        if (step.after.matches('RETRYING')) expect(REFRESH_RETRY_MS[Math.min(ctx.refreshFailures, REFRESH_RETRY_MS.length) - 1]).toBeDefined();
        // No token in what is kept for logs and the inspector, and none in any event but the token store's.
        expect(TOKEN_PATTERN.test(String(ctx.error ?? ''))).toBe(false);
        for (const e of step.emitted.filter((x: SampleEvent) => x.type !== 'TOKENS.CHANGED')) expect(TOKEN_PATTERN.test(JSON.stringify(e))).toBe(false);
      },
    });
    expectComplete(f);
  });
});

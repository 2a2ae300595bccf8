// The connection machine on a simulated clock: the §1.6 sequence, §1.8 backoff with full jitter,
// the 50-attempts-in-10-minutes bound, 403 handling, §11.3 SetEndpoint, §13 capabilities.
import { createActor, fromCallback, fromPromise, SimulatedClock } from 'xstate';
import { BACKOFF_TABLE_MS } from '../../../machines/connection/backoff';
import {
  connectionMachine,
  type CapabilitiesOutput,
  type ConnectionInput,
  type SessionCommand,
  type SessionInput,
  type SynchronizeOutput,
} from '../../../machines/connection/machine';

interface Harness {
  actor: ReturnType<typeof startMachine>['actor'];
  clock: SimulatedClock;
  sessions: SessionInput[];
  commands: SessionCommand[];
  authorizeCalls: { refresh: boolean }[];
  emitted: string[];
  settle: () => Promise<void>;
  state: () => unknown;
}

interface Fakes {
  authorize?: (input: { refresh: boolean }) => Promise<void>;
  capabilities?: () => Promise<CapabilitiesOutput>;
  synchronize?: () => Promise<SynchronizeOutput>;
}

function startMachine(input: Partial<ConnectionInput> = {}, fakes: Fakes = {}) {
  const clock = new SimulatedClock();
  const sessions: SessionInput[] = [];
  const commands: SessionCommand[] = [];
  const authorizeCalls: { refresh: boolean }[] = [];
  const machine = connectionMachine.provide({
    actors: {
      authorize: fromPromise<void, { refresh: boolean }>(async ({ input: i }) => {
        authorizeCalls.push(i);
        await (fakes.authorize?.(i) ?? Promise.resolve());
      }),
      publishCapabilities: fromPromise<CapabilitiesOutput, { endpoint: string }>(async () => (fakes.capabilities ? fakes.capabilities() : { status: 204 })),
      session: fromCallback<SessionCommand, SessionInput>(({ input: i, receive }) => {
        sessions.push(i);
        receive((c) => commands.push(c));
      }),
      synchronize: fromPromise<SynchronizeOutput, { endpoint: string }>(async () => (fakes.synchronize ? fakes.synchronize() : { status: 204 })),
    },
  });
  const actor = createActor(machine, {
    clock,
    input: { endpoint: 'https://avs.example', seed: 12345, ...input },
  });
  const emitted: string[] = [];
  actor.on('ENDPOINT.CHANGED', (e) => emitted.push(e.endpoint));
  actor.start();
  return { actor, clock, sessions, commands, authorizeCalls, emitted };
}

function harness(input: Partial<ConnectionInput> = {}, fakes: Fakes = {}): Harness {
  const h = startMachine(input, fakes);
  return {
    ...h,
    // Promise actors settle on the microtask queue.
    settle: async () => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
    },
    state: () => h.actor.getSnapshot().value,
  };
}

const CONNECTING = { ONLINE: 'CONNECTING' };
const CONNECTED = { ONLINE: 'CONNECTED' };

async function connect(h: Harness, at = 0): Promise<void> {
  h.actor.send({ type: 'USER.CONNECT' });
  await h.settle();
  expect(h.state()).toEqual(CONNECTING);
  h.actor.send({ type: 'SESSION.OPENED', at, startedAt: at });
  await h.settle();
}

describe('connection machine', () => {
  it('authorizes, publishes capabilities, opens the session, synchronizes, then is CONNECTED (§1.6)', async () => {
    const h = harness();
    expect(h.state()).toBe('DISCONNECTED');
    await connect(h);
    expect(h.state()).toEqual(CONNECTED);
    expect(h.sessions).toEqual([{ endpoint: 'https://avs.example', pingIdleMs: 300_000, pingTimeoutMs: 15_000, connectTimeoutMs: 60_000 }]);
    expect(h.authorizeCalls).toEqual([{ refresh: false }]);
  });

  it('is not CONNECTED until SynchronizeState is accepted', async () => {
    let accept: (o: SynchronizeOutput) => void = () => {};
    const h = harness({}, { synchronize: () => new Promise((r) => (accept = r)) });
    await connect(h);
    expect(h.state()).toEqual({ ONLINE: 'POST_CONNECTING' });
    accept({ status: 204 });
    await h.settle();
    expect(h.state()).toEqual(CONNECTED);
  });

  it('backs off with full jitter within the §1.8 table, capped', async () => {
    const h = harness({ maxRetryDelayMs: 16_000 });
    h.actor.send({ type: 'USER.CONNECT' });
    await h.settle();
    let now = 0;
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) {
      h.actor.send({ type: 'SESSION.FAILED', at: now, startedAt: now, reason: 'ECONNREFUSED' });
      expect(h.state()).toBe('WAITING_TO_RETRY');
      const delay = h.actor.getSnapshot().context.retryDelayMs;
      delays.push(delay);
      const base = Math.min(16_000, BACKOFF_TABLE_MS[Math.min(i, BACKOFF_TABLE_MS.length - 1)]);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(base);
      // Not a moment early...
      h.clock.increment(Math.max(0, delay - 1));
      if (delay > 0) expect(h.state()).toBe('WAITING_TO_RETRY');
      // ...and then it tries again.
      h.clock.increment(1);
      now += delay;
      await h.settle();
      expect(h.state()).toEqual(CONNECTING);
    }
    expect(h.sessions).toHaveLength(13);
    // Jitter, not a fixed schedule: the later (capped) delays differ.
    expect(new Set(delays.slice(5)).size).toBeGreaterThan(1);
  });

  it('draws the same jitter from the same device seed, and other jitter from another', async () => {
    const run = async (seed: number) => {
      const h = harness({ seed });
      h.actor.send({ type: 'USER.CONNECT' });
      await h.settle();
      h.actor.send({ type: 'SESSION.FAILED', at: 0, startedAt: 0, reason: 'x' });
      return h.actor.getSnapshot().context.retryDelayMs;
    };
    expect(await run(7)).toBe(await run(7));
    const many = await Promise.all([1, 2, 3, 4, 5, 6].map(run));
    expect(new Set(many).size).toBeGreaterThan(1);
  });

  it('never makes more than 50 connection attempts in any 10 minutes, even when every attempt fails at once', async () => {
    const h = harness({ maxRetryDelayMs: 10 }); // a tiny cap: only the bound holds it back
    h.actor.send({ type: 'USER.CONNECT' });
    await h.settle();
    let now = 0;
    const starts: number[] = [];
    while (starts.length < 160) {
      starts.push(now);
      h.actor.send({ type: 'SESSION.FAILED', at: now, startedAt: now, reason: 'refused' });
      const delay = h.actor.getSnapshot().context.retryDelayMs;
      h.clock.increment(delay);
      now += delay;
      await h.settle();
      expect(h.state()).toEqual(CONNECTING);
    }
    for (let i = 0; i + 50 < starts.length; i++) expect(starts[i + 50] - starts[i]).toBeGreaterThan(10 * 60 * 1000);
    // It is a bound, not a stop: the attempts go on, about 50 every 10 minutes.
    expect(now).toBeLessThan(35 * 60 * 1000);
  });

  it('counts attempts across connections that open and drop at once (flapping)', async () => {
    const h = harness({ maxRetryDelayMs: 10 });
    await connect(h, 0);
    let now = 0;
    const starts = [0];
    for (let i = 0; i < 120; i++) {
      h.actor.send({ type: 'SESSION.LOST', at: now, reason: 'GOAWAY' });
      const delay = h.actor.getSnapshot().context.retryDelayMs;
      h.clock.increment(delay);
      now += delay;
      await h.settle();
      starts.push(now);
      h.actor.send({ type: 'SESSION.OPENED', at: now, startedAt: now });
      await h.settle();
      expect(h.state()).toEqual(CONNECTED);
    }
    for (let i = 0; i + 50 < starts.length; i++) expect(starts[i + 50] - starts[i]).toBeGreaterThan(10 * 60 * 1000);
  });

  it('reconnects after a lost session from the top of the table (§1.8: reset after a success)', async () => {
    const h = harness();
    await connect(h);
    h.actor.send({ type: 'SESSION.LOST', at: 1000, reason: 'downchannel reset' });
    expect(h.state()).toBe('WAITING_TO_RETRY');
    expect(h.actor.getSnapshot().context.retryDelayMs).toBeLessThanOrEqual(BACKOFF_TABLE_MS[0]);
    expect(h.actor.getSnapshot().context.lastError).toBe('downchannel reset');
    h.clock.increment(BACKOFF_TABLE_MS[0]);
    await h.settle();
    expect(h.state()).toEqual(CONNECTING);
    expect(h.sessions).toHaveLength(2);
  });

  it('asks for a fresh token when the downchannel is refused with 403, and connects with it', async () => {
    const h = harness();
    h.actor.send({ type: 'USER.CONNECT' });
    await h.settle();
    h.actor.send({ type: 'SESSION.FAILED', at: 0, startedAt: 0, reason: 'downchannel 403', status: 403 });
    await h.settle();
    expect(h.authorizeCalls).toEqual([{ refresh: false }, { refresh: true }]);
    expect(h.state()).toEqual(CONNECTING);
    h.actor.send({ type: 'SESSION.OPENED', at: 1, startedAt: 1 });
    await h.settle();
    expect(h.state()).toEqual(CONNECTED);
    expect(h.actor.getSnapshot().context.tokenRefused).toBe(false);
  });

  it('waits and asks again when there is no token, and goes at once when one becomes available', async () => {
    let linked = false;
    const h = harness({}, { authorize: async () => {
      if (!linked) throw new Error('not linked');
    } });
    h.actor.send({ type: 'USER.CONNECT' });
    await h.settle();
    expect(h.state()).toBe('WAITING_TO_RETRY');
    expect(h.actor.getSnapshot().context.lastError).toMatch(/no token: Error: not linked/);
    linked = true;
    h.actor.send({ type: 'TOKEN.AVAILABLE' });
    await h.settle();
    expect(h.state()).toEqual(CONNECTING);
  });

  it('treats a refused SynchronizeState like a failed attempt, and a 403 as a token to refresh', async () => {
    const statuses = [500, 403, 204];
    const h = harness({}, { synchronize: async () => ({ status: statuses.shift() ?? 204 }) });
    await connect(h, 0);
    expect(h.state()).toBe('WAITING_TO_RETRY');
    h.clock.increment(h.actor.getSnapshot().context.retryDelayMs);
    await h.settle();
    h.actor.send({ type: 'SESSION.OPENED', at: 5, startedAt: 5 });
    await h.settle();
    expect(h.authorizeCalls.at(-1)).toEqual({ refresh: true });
    h.actor.send({ type: 'SESSION.OPENED', at: 6, startedAt: 6 });
    await h.settle();
    expect(h.state()).toEqual(CONNECTED);
  });

  it('stops on capabilities refused as malformed (§13: fix the software), retries a 500', async () => {
    const statuses = [500, 400];
    const h = harness({}, { capabilities: async () => ({ status: statuses.shift() ?? 204 }) });
    h.actor.send({ type: 'USER.CONNECT' });
    await h.settle();
    expect(h.state()).toBe('WAITING_TO_RETRY');
    h.clock.increment(h.actor.getSnapshot().context.retryDelayMs);
    await h.settle();
    expect(h.state()).toBe('FAILED');
    expect(h.actor.getSnapshot().context.lastError).toBe('capabilities refused with 400');
    h.actor.send({ type: 'USER.CONNECT' });
    await h.settle();
    expect(h.state()).toEqual(CONNECTING);
  });

  it('moves to a new endpoint on SetEndpoint, tells the runtime to persist it, and ignores the same one (§11.3)', async () => {
    const h = harness();
    await connect(h);
    h.actor.send({ type: 'DIRECTIVE.SetEndpoint', endpoint: 'https://avs.example' });
    expect(h.state()).toEqual(CONNECTED);
    expect(h.sessions).toHaveLength(1);
    h.actor.send({ type: 'DIRECTIVE.SetEndpoint', endpoint: 'https://alexa.eu.gateway.devices.a2z.com' });
    expect(h.state()).toEqual(CONNECTING);
    expect(h.emitted).toEqual(['https://alexa.eu.gateway.devices.a2z.com']);
    expect(h.sessions.map((s) => s.endpoint)).toEqual(['https://avs.example', 'https://alexa.eu.gateway.devices.a2z.com']);
  });

  it('remembers a SetEndpoint that comes while disconnected and uses it next time', async () => {
    const h = harness();
    h.actor.send({ type: 'DIRECTIVE.SetEndpoint', endpoint: 'https://other.example' });
    expect(h.emitted).toEqual(['https://other.example']);
    await connect(h);
    expect(h.sessions[0].endpoint).toBe('https://other.example');
  });

  it('while closing, remembers a new endpoint and ignores the same one (found by the model-based test)', async () => {
    const h = harness();
    await connect(h);
    h.actor.send({ type: 'USER.DISCONNECT' });
    h.actor.send({ type: 'DIRECTIVE.SetEndpoint', endpoint: 'https://avs.example' });
    expect(h.emitted).toEqual([]);
    h.actor.send({ type: 'DIRECTIVE.SetEndpoint', endpoint: 'https://other.example' });
    expect(h.emitted).toEqual(['https://other.example']);
  });

  it('closes the session on purpose, then is DISCONNECTED (and does not wait forever)', async () => {
    const h = harness();
    await connect(h);
    h.actor.send({ type: 'USER.DISCONNECT' });
    expect(h.state()).toEqual({ ONLINE: 'DISCONNECTING' });
    expect(h.commands).toEqual([{ type: 'CLOSE' }]);
    h.actor.send({ type: 'SESSION.CLOSED' });
    expect(h.state()).toBe('DISCONNECTED');

    await connect(h, 10);
    h.actor.send({ type: 'USER.DISCONNECT' });
    h.clock.increment(5000);
    expect(h.state()).toBe('DISCONNECTED');
  });

  it('waits out a backoff delay on a second 403 in a row, instead of looping at once', async () => {
    const h = harness();
    h.actor.send({ type: 'USER.CONNECT' });
    await h.settle();
    h.actor.send({ type: 'SESSION.FAILED', at: 0, startedAt: 0, reason: 'downchannel 403', status: 403 });
    await h.settle();
    expect(h.state()).toEqual(CONNECTING);
    h.actor.send({ type: 'SESSION.FAILED', at: 10, startedAt: 10, reason: 'downchannel 403', status: 403 });
    await h.settle();
    expect(h.state()).toBe('WAITING_TO_RETRY');
    // Every later attempt still asks for a fresh token.
    h.clock.increment(h.actor.getSnapshot().context.retryDelayMs);
    await h.settle();
    expect(h.authorizeCalls.map((c) => c.refresh)).toEqual([false, true, true]);
  });

  it('does the same for capabilities and SynchronizeState refused twice with 403', async () => {
    const caps = harness({}, { capabilities: async () => ({ status: 403, startedAt: 0 }) });
    caps.actor.send({ type: 'USER.CONNECT' });
    await caps.settle();
    expect(caps.state()).toBe('WAITING_TO_RETRY');
    expect(caps.actor.getSnapshot().context.attempts).toEqual([0, 0]);
    const sync = harness({}, { synchronize: async () => ({ status: 403 }) });
    await connect(sync);
    expect(sync.state()).toEqual(CONNECTING);
    sync.actor.send({ type: 'SESSION.OPENED', at: 1, startedAt: 1 });
    await sync.settle();
    expect(sync.state()).toBe('WAITING_TO_RETRY');
  });

  it('counts a session lost before it completed as a failed attempt (no reset of the backoff)', async () => {
    const h = harness();
    h.actor.send({ type: 'USER.CONNECT' });
    await h.settle();
    h.actor.send({ type: 'SESSION.FAILED', at: 0, startedAt: 0, reason: 'refused' });
    h.clock.increment(h.actor.getSnapshot().context.retryDelayMs);
    await h.settle();
    h.actor.send({ type: 'SESSION.OPENED', at: 1, startedAt: 1 }); // POST_CONNECTING: not yet connected
    h.actor.send({ type: 'SESSION.LOST', at: 2, reason: 'downchannel reset' });
    expect(h.actor.getSnapshot().context.failures).toBe(2);
  });
});

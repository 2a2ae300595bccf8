// §12.3 token refresh against the simulator's LWA endpoint.
import { LwaError, LwaTokenSource } from '../../../services/lwa/refresh';
import { AvsSession } from '../../../services/transport';
import { startSimulator, type Simulator } from '../../avs-cloud';

describe('LwaTokenSource', () => {
  let sim: Simulator;
  beforeEach(async () => {
    sim = await startSimulator();
  });
  afterEach(async () => {
    await sim.stop();
  });

  it('gets a fresh access token with the refresh token, which AVS then accepts', async () => {
    const pair = sim.tokens.issue();
    const seen: string[] = [];
    const tokens = new LwaTokenSource({ clientId: 'client-1', refreshToken: pair.refreshToken, url: sim.url, ca: sim.ca, onTokens: (t) => seen.push(t.accessToken) });
    expect(tokens.current()).toBeUndefined();
    const access = await tokens.refresh();
    expect(access).not.toBe(pair.accessToken);
    expect(tokens.current()).toBe(access);
    expect(seen).toEqual([access]);
    const session = await AvsSession.open({ endpoint: sim.url, ca: sim.ca, token: () => tokens.current() });
    await session.close();
  });

  it('shares one request between callers that ask at the same time', async () => {
    const tokens = new LwaTokenSource({ clientId: 'c', refreshToken: sim.tokens.issue().refreshToken, url: sim.url, ca: sim.ca });
    const [a, b] = await Promise.all([tokens.refresh(), tokens.refresh()]);
    expect(a).toBe(b);
    expect(sim.records.filter((r) => r.kind === 'lwa')).toHaveLength(1);
  });

  it('says invalid_grant when the refresh token was revoked (§12.2: relink)', async () => {
    const pair = sim.tokens.issue();
    sim.tokens.revoke(pair.refreshToken);
    const tokens = new LwaTokenSource({ clientId: 'c', refreshToken: pair.refreshToken, url: sim.url, ca: sim.ca });
    const error = await tokens.refresh().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LwaError);
    expect((error as LwaError).code).toBe('invalid_grant');
  });

  it('refreshes ahead of expiry (§12.3) and keeps handing out the token until it is nearly expired', async () => {
    const pair = sim.tokens.issue();
    const lifetime = 20 * 60_000;
    const tokens = new LwaTokenSource({
      clientId: 'c',
      refreshToken: pair.refreshToken,
      accessToken: pair.accessToken,
      expiresAt: Date.now() + lifetime,
      refreshAheadMs: lifetime - 50, // due in 50 ms
      url: sim.url,
      ca: sim.ca,
    });
    expect(tokens.current()).toBe(pair.accessToken);
    await new Promise<void>((resolve) => {
      const check = () => (tokens.current() !== pair.accessToken ? resolve() : setTimeout(check, 20));
      check();
    });
    expect(sim.records.filter((r) => r.kind === 'lwa')).toHaveLength(1);
    tokens.stop();
  });

  it('does not hand out a token in its last minute', () => {
    let now = 0;
    const tokens = new LwaTokenSource({ clientId: 'c', refreshToken: 'r', accessToken: 'a', expiresAt: 3_600_000, refreshAheadMs: 0, now: () => now });
    expect(tokens.current()).toBe('a');
    now = 3_600_000 - 60_000;
    expect(tokens.current()).toBeUndefined();
    tokens.stop();
  });
});

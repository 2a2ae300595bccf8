// Login with Amazon as the simulator serves it (PROTOCOL.md §12), on an injected clock.
import { createHash, randomBytes } from 'node:crypto';
import type { ClientHttp2Session } from 'node:http2';
import { startSimulator, type Simulator } from '.';
import { closeSession, connect, ping, request } from './test-client';

const CLIENT_ID = 'amzn1.application-oa2-client.0123456789abcdef';
const SCOPE_DATA = JSON.stringify({ 'alexa:all': { productID: 'MyProduct01', productInstanceAttributes: { deviceSerialNumber: 'SN-000123' } } });

describe('Login with Amazon', () => {
  let now = Date.UTC(2024, 2, 1, 12);
  let sim: Simulator;
  let session: ClientHttp2Session;

  beforeAll(async () => {
    sim = await startSimulator({ h2c: true, now: () => now });
    session = await connect(sim);
  });
  afterAll(async () => {
    await closeSession(session);
    await sim.stop();
  });

  const post = async (path: string, params: Record<string, string>, json = false) => {
    const body = json ? JSON.stringify(params) : new URLSearchParams(params).toString();
    const type = json ? 'application/json' : 'application/x-www-form-urlencoded';
    const r = await request(session, { ':method': 'POST', ':path': path, 'content-type': type }, body);
    return { status: r.status, body: JSON.parse(r.body.toString() || 'null') as Record<string, string | number> };
  };
  const codePair = () => post('/auth/O2/create/codepair', { response_type: 'device_code', client_id: CLIENT_ID, scope: 'alexa:all', scope_data: SCOPE_DATA });
  const poll = (pair: Record<string, string | number>) =>
    post('/auth/o2/token', { grant_type: 'device_code', device_code: String(pair.device_code), user_code: String(pair.user_code) });

  it('links a device: code pair, pending, slow_down, approval, tokens, refresh, revocation', async () => {
    const pair = await codePair();
    expect(pair.status).toBe(200);
    expect(pair.body).toMatchObject({ verification_uri: `${sim.url}/sim/code`, expires_in: 600, interval: 5 });
    expect(String(pair.body.user_code)).toMatch(/^[A-Z0-9]{6}$/);

    expect((await poll(pair.body)).body.error).toBe('authorization_pending');
    // §12.1: polled again before `interval` passed.
    const fast = await poll(pair.body);
    expect(fast).toMatchObject({ status: 400, body: { error: 'slow_down' } });

    const approved = await request(session, { ':method': 'POST', ':path': '/sim/approve', 'content-type': 'application/x-www-form-urlencoded' }, `user_code=${pair.body.user_code}`);
    expect(approved.status).toBe(204);
    now += 5000;
    const tokens = await poll(pair.body);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    const access = String(tokens.body.access_token);
    const refreshToken = String(tokens.body.refresh_token);
    expect((await ping(session, access)).status).toBe(204);
    // The code pair is used up.
    now += 5000;
    expect((await poll(pair.body)).body.error).toBe('invalid_code_pair');

    // §12.3: refresh gives a new access token; the refresh token is kept.
    const refreshed = await post('/auth/O2/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(access);
    expect(refreshed.body.refresh_token).toBe(refreshToken);
    expect((await ping(session, String(refreshed.body.access_token))).status).toBe(204);

    // §12.2: the user deregistered the device.
    sim.tokens.revoke(refreshToken);
    const revoked = await post('/auth/O2/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID });
    expect(revoked).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await ping(session, String(refreshed.body.access_token))).status).toBe(403);
  });

  it('expires a code pair after expires_in and an access token after an hour, on the injected clock', async () => {
    const pair = await codePair();
    now += 601_000;
    expect(sim.approve(String(pair.body.user_code))).toBe(false);
    expect((await poll(pair.body)).body.error).toBe('invalid_code_pair');

    const { accessToken } = sim.tokens.issue();
    expect((await ping(session, accessToken)).status).toBe(204);
    now += 3600_000;
    const r = await ping(session, accessToken);
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body.toString()).payload.description).toBe('Access token expired');
  });

  it('expires a token on demand', async () => {
    const { accessToken } = sim.tokens.issue();
    sim.tokens.expire(accessToken);
    expect((await ping(session, accessToken)).status).toBe(403);
  });

  it('exchanges an authorization code, checking S256 PKCE, from a JSON body as the Java sample sends it', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const codeChallenge = createHash('sha256').update(verifier).digest('base64url');
    const redirectUri = 'https://companion.example.com/cb';
    const code = sim.authorizationCode({ clientId: CLIENT_ID, redirectUri, codeChallenge });
    const grant = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: CLIENT_ID };
    expect((await post('/auth/o2/token', { ...grant, code_verifier: 'wrong' }, true)).body.error).toBe('invalid_grant');
    expect((await post('/auth/o2/token', { ...grant, redirect_uri: 'https://elsewhere/cb', code_verifier: verifier }, true)).body.error).toBe('invalid_grant');
    const ok = await post('/auth/o2/token', { ...grant, code_verifier: verifier }, true);
    expect(ok.status).toBe(200);
    expect((await ping(session, String(ok.body.access_token))).status).toBe(204);
    // One use only.
    expect((await post('/auth/o2/token', { ...grant, code_verifier: verifier }, true)).body.error).toBe('invalid_grant');
  });

  it('answers OAuth errors with 400 and error / error_description', async () => {
    const wrongType = await post('/auth/O2/create/codepair', { response_type: 'code', client_id: CLIENT_ID, scope: 'alexa:all', scope_data: SCOPE_DATA });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toBe('unsupported_response_type');
    expect(typeof wrongType.body.error_description).toBe('string');
    expect((await post('/auth/O2/create/codepair', { response_type: 'device_code', client_id: CLIENT_ID, scope: 'alexa:all', scope_data: '{}' })).body.error).toBe(
      'invalid_request',
    );
    expect((await post('/auth/O2/token', { grant_type: 'password' })).body.error).toBe('unsupported_grant_type');
    expect((await post('/auth/O2/token', { grant_type: 'refresh_token', refresh_token: 'Atzr|unknown' })).body.error).toBe('invalid_grant');
    expect((await post('/auth/O2/token', { grant_type: 'device_code', device_code: 'unknown' })).body.error).toBe('invalid_code_pair');
  });
});

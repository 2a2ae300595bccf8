// The simulator's TLS (PROTOCOL.md §1.1): its own CA, trusted explicitly, never checks switched off.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateError, startSimulator, type Simulator } from '.';
import { closeSession, connect, ping, request } from './test-client';

function https1(sim: Simulator, method: string, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string; version: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${sim.url}${path}`, { method, headers, ca: sim.ca, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, version: res.httpVersion }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('TLS', () => {
  let sim: Simulator;
  const certDir = mkdtempSync(join(tmpdir(), 'avs-cloud-certs-'));

  beforeAll(async () => {
    sim = await startSimulator({ certDir });
  });
  afterAll(async () => {
    await sim.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('serves https://localhost:PORT with a certificate of its own CA, written as ca.pem', () => {
    expect(sim.url).toBe(`https://localhost:${sim.port}`);
    expect(sim.caPath).toBe(join(certDir, 'ca.pem'));
    expect(readFileSync(join(certDir, 'ca.pem'), 'utf8')).toBe(sim.ca);
    expect(sim.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('speaks HTTP/2 to a client that trusts the CA, by name or by 127.0.0.1', async () => {
    const session = await connect(sim);
    expect(session.alpnProtocol).toBe('h2');
    expect((await ping(session, sim.defaultToken)).status).toBe(204);
    await closeSession(session);
    const byIp = http2.connect(`https://127.0.0.1:${sim.port}`, { ca: sim.ca });
    expect((await request(byIp, { ':path': '/ping', authorization: `Bearer ${sim.defaultToken}` })).status).toBe(204);
    await closeSession(byIp);
  });

  it('is refused by a client that does not know the CA', async () => {
    const session = http2.connect(sim.url);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => session.once('error', resolve));
    expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    session.destroy();
    // …and still serves everyone else.
    const ok = await connect(sim);
    expect((await ping(ok, sim.defaultToken)).status).toBe(204);
    await closeSession(ok);
  });

  it('serves LWA and the capabilities API over HTTP/1.1 on the same port, and AVS only over HTTP/2', async () => {
    const pair = await https1(
      sim,
      'POST',
      '/auth/O2/create/codepair',
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({
        response_type: 'device_code',
        client_id: 'amzn1.application-oa2-client.x',
        scope: 'alexa:all',
        scope_data: JSON.stringify({ 'alexa:all': { productID: 'P', productInstanceAttributes: { deviceSerialNumber: 'D' } } }),
      }).toString(),
    );
    expect(pair.version).toBe('1.1');
    expect(pair.status).toBe(200);
    expect(JSON.parse(pair.body).verification_uri).toBe(`${sim.url}/sim/code`);
    const caps = await https1(
      sim,
      'PUT',
      '/v1/devices/@self/capabilities',
      { 'content-type': 'application/json', 'x-amz-access-token': sim.defaultToken },
      JSON.stringify({ envelopeVersion: '20160207', capabilities: [{ type: 'AlexaInterface', interface: 'System', version: '1.0' }] }),
    );
    expect(caps.status).toBe(204);
    const avs = await https1(sim, 'GET', '/ping', { authorization: `Bearer ${sim.defaultToken}` }, '');
    expect(avs.status).toBe(505);
  });

  it('removes a certificate folder it made itself when it stops', async () => {
    const own = await startSimulator({});
    const dir = own.caPath ? join(own.caPath, '..') : '';
    expect(existsSync(dir)).toBe(true);
    await own.stop();
    expect(existsSync(dir)).toBe(false);
  });

  it('says so, naming openssl, when the openssl command is missing', async () => {
    const failed = startSimulator({ openssl: '/nonexistent/openssl' });
    await expect(failed).rejects.toThrow(CertificateError);
    await expect(failed).rejects.toThrow(/openssl/);
  });
});

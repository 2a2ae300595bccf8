// What Amazon's own Device SDK does around connecting (PROTOCOL.md §13, §13.1), answered as AVS does.
import type { ClientHttp2Session } from 'node:http2';
import { startSimulator, type Simulator } from '.';
import { bearer, closeSession, connect, event, openDownchannel, request, sendEvent, synchronizeState } from './test-client';

// The SDK's fixed event boundary (§13.1).
const SDK_BOUNDARY = 'WhooHooZeerOoonie!';

const CAPABILITIES = {
  envelopeVersion: '20160207',
  capabilities: [
    { type: 'AlexaInterface', interface: 'SpeechRecognizer', version: '2.0' },
    { type: 'AlexaInterface', interface: 'Alerts', version: '1.1', configurations: { maximumAlerts: { overall: 30, alarms: 15, timers: 15 } } },
  ],
};

describe('the post-connect sequence of later SDKs (§13.1)', () => {
  let sim: Simulator;
  let session: ClientHttp2Session;

  beforeAll(async () => {
    sim = await startSimulator({ h2c: true });
    session = await connect(sim);
  });
  afterAll(async () => {
    await closeSession(session);
    await sim.stop();
  });

  it('answers VerifyGateway 204, AddOrUpdateReport 202 then EventProcessed within 2 s, SynchronizeState 204', async () => {
    const downchannel = await openDownchannel(session, sim.defaultToken);
    const send = (metadata: object) => sendEvent(session, sim.defaultToken, metadata, undefined, {}, SDK_BOUNDARY).response;

    expect((await send(event('Alexa.ApiGateway', 'VerifyGateway'))).status).toBe(204);

    // Shaped as the SDK sends it (DiscoveryEventSender: payloadVersion 3, the token in the header).
    const report = event(
      'Alexa.Discovery',
      'AddOrUpdateReport',
      { endpoints: [{ endpointId: 'device-1', capabilities: [] }], scope: { type: 'BearerToken', token: sim.defaultToken } },
      { payloadVersion: '3', eventCorrelationToken: 'corr-token-42' },
    );
    const accepted = await send(report);
    expect(accepted.status).toBe(202);
    const at = Date.now();
    const processed = await downchannel.parts.nextDirective(2000);
    expect(Date.now() - at).toBeLessThan(2000);
    expect(processed.header).toMatchObject({ namespace: 'Alexa', name: 'EventProcessed', eventCorrelationToken: 'corr-token-42' });
    expect(processed.payload).toEqual({});

    expect((await send(synchronizeState())).status).toBe(204);
    expect(sim.events().map((e) => `${e.event.header.namespace}.${e.event.header.name}`)).toEqual([
      'Alexa.ApiGateway.VerifyGateway',
      'Alexa.Discovery.AddOrUpdateReport',
      'System.SynchronizeState',
    ]);
  });

  it('takes a capabilities PUT with x-amz-access-token or a bearer token, and records it', async () => {
    const put = (headers: Record<string, string>, body: string) =>
      request(session, { ':method': 'PUT', ':path': '/v1/devices/@self/capabilities', 'content-type': 'application/json', ...headers }, body);
    expect((await put({ 'x-amz-access-token': sim.defaultToken }, JSON.stringify(CAPABILITIES))).status).toBe(204);
    expect((await put(bearer(sim.defaultToken), JSON.stringify(CAPABILITIES))).status).toBe(204);
    expect(sim.capabilities).toEqual([CAPABILITIES, CAPABILITIES]);
    const record = sim.records.filter((r) => r.kind === 'capabilities').pop();
    expect(record?.headers['x-amz-access-token']).toBeUndefined();
  });

  it('answers a malformed capabilities body 400 {"message"} and a bad token 403', async () => {
    const put = (headers: Record<string, string>, body: string) =>
      request(session, { ':method': 'PUT', ':path': '/v1/devices/@self/capabilities', 'content-type': 'application/json', ...headers }, body);
    const bad = await put({ 'x-amz-access-token': sim.defaultToken }, JSON.stringify({ envelopeVersion: '20160207', capabilities: [{ type: 'AlexaInterface', interface: 'Speaker' }] }));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).message).toContain('$.capabilities[0].version');
    expect((await put({ 'x-amz-access-token': sim.defaultToken }, 'not json')).status).toBe(400);
    expect((await put({ 'x-amz-access-token': 'Atza|nope' }, JSON.stringify(CAPABILITIES))).status).toBe(403);
  });
});

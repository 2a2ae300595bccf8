// Every fault happens on the wire as documented (PROTOCOL.md §1.5.4, §1.9, §1.10).
import * as http2 from 'node:http2';
import { Readable } from 'node:stream';
import { boundaryFromContentType } from '../../services/multipart';
import { startSimulator, type Scenario, type Simulator } from '.';
import { bearer, closeSession, connect, event, openDownchannel, type OpenDownchannel, PartQueue, ping, request, sendEvent } from './test-client';

// VolumeChanged is answered with one directive, so its answer is a multipart body to spoil.
const scenario: Scenario = {
  rules: [
    {
      on: 'Speaker.VolumeChanged',
      directives: [{ directive: { header: { namespace: 'Speaker', name: 'SetMute' }, payload: { mute: true } } }],
    },
  ],
};
const volumeChanged = () => event('Speaker', 'VolumeChanged', { volume: 20, muted: false });
const codeOf = (body: Buffer) => (JSON.parse(body.toString()) as { payload: { code: string } }).payload.code;
const answerParts = (r: { headers: http2.IncomingHttpHeaders; body: Buffer }) =>
  new PartQueue(Readable.from([r.body]), String(boundaryFromContentType(String(r.headers['content-type']))));

describe('faults', () => {
  let sim: Simulator;
  let session: http2.ClientHttp2Session;
  let downchannel: OpenDownchannel;

  beforeAll(async () => {
    sim = await startSimulator({ h2c: true, scenario });
  });
  afterAll(() => sim.stop());
  beforeEach(async () => {
    session = await connect(sim);
    downchannel = await openDownchannel(session, sim.defaultToken);
  });
  afterEach(async () => {
    sim.faults.clear();
    await closeSession(session);
  });

  it('drops the TCP connection: the session closes without a GOAWAY', async () => {
    const goaway = jest.fn();
    session.on('goaway', goaway);
    const closed = new Promise((resolve) => session.once('close', resolve));
    const before = (await sim.waitForDownchannel()).nth;
    expect(sim.faults.dropConnections()).toBeGreaterThanOrEqual(1);
    await closed;
    expect(goaway).not.toHaveBeenCalled();
    // The reconnect is observable as the next downchannel.
    const next = sim.waitForDownchannel({ nth: before + 1 });
    session = await connect(sim);
    await openDownchannel(session, sim.defaultToken);
    expect((await next).nth).toBe(before + 1);
  });

  it('sends GOAWAY with the last stream it processed', async () => {
    const goaway = new Promise<[number, number]>((resolve) => session.once('goaway', (code: number, last: number) => resolve([code, last])));
    expect(sim.faults.goaway()).toBeGreaterThanOrEqual(1);
    const [code, lastStreamId] = await goaway;
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(lastStreamId).toBe(downchannel.stream.id);
  });

  it('resets the downchannel with RST_STREAM', async () => {
    const closed = new Promise<number>((resolve) => downchannel.stream.once('close', () => resolve(downchannel.stream.rstCode ?? -1)));
    expect(sim.faults.resetDownchannel()).toBe(1);
    expect(await closed).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
  });

  it('ends the downchannel', async () => {
    const ended = new Promise((resolve) => downchannel.stream.once('end', resolve));
    expect(sim.faults.endDownchannel()).toBe(1);
    await ended;
    expect((await downchannel.parts.failed).message).toMatch(/ended|truncat/i);
  });

  it('answers the next event 403 and expires the token it carried', async () => {
    const token = sim.tokens.issue().accessToken;
    sim.faults.failNext(403);
    const r = await sendEvent(session, token, volumeChanged()).response;
    expect(r.status).toBe(403);
    expect(codeOf(r.body)).toBe('UNAUTHORIZED_REQUEST_EXCEPTION');
    expect((await ping(session, token)).status).toBe(403);
    expect(sim.tokens.check(token)).toBe('expired');
  });

  it.each([
    [429, 'THROTTLING_EXCEPTION'],
    [500, 'INTERNAL_SERVICE_EXCEPTION'],
    [503, 'N/A'],
  ] as const)('answers the next N pings %i with the §1.5.4 body', async (status, code) => {
    sim.faults.failNext(status, { count: 2, target: 'ping' });
    for (let i = 0; i < 2; i++) {
      const r = await ping(session, sim.defaultToken);
      expect(r.status).toBe(status);
      expect(r.headers['content-type']).toBe('application/json');
      expect(codeOf(r.body)).toBe(code);
    }
    expect((await ping(session, sim.defaultToken)).status).toBe(204);
  });

  it('answers a downchannel request 503', async () => {
    const other = await connect(sim);
    sim.faults.failNext(503, { target: 'downchannel' });
    const r = await request(other, { ':path': '/v20160207/directives', ...bearer(sim.defaultToken) });
    expect(r.status).toBe(503);
    await closeSession(other);
  });

  it('delays a response', async () => {
    sim.faults.delayNext(250);
    const started = Date.now();
    const sent = sendEvent(session, sim.defaultToken, volumeChanged());
    await sent.headers;
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect((await sent.response).status).toBe(200);
  });

  it('truncates the next event answer', async () => {
    sim.faults.truncateNext('event');
    const r = await sendEvent(session, sim.defaultToken, volumeChanged()).response;
    expect(r.status).toBe(200);
    const parts = answerParts(r);
    expect((await parts.failed).message).toMatch(/ended/);
  });

  it('truncates the next downchannel push and ends the downchannel', async () => {
    sim.faults.truncateNext('downchannel');
    sim.pushDirective({ directive: { header: { namespace: 'System', name: 'ResetUserInactivity', messageId: 'cut' }, payload: {} } });
    expect(await downchannel.parts.failed).toMatchObject({ code: 'TRUNCATED' });
    // That downchannel takes no more pushes: the next one waits for a new downchannel.
    expect(sim.pushDirective({ directive: { header: { namespace: 'System', name: 'ResetUserInactivity', messageId: 'later' }, payload: {} } })).toBe('queued');
    const next = await openDownchannel(session, sim.defaultToken);
    expect((await next.parts.nextDirective()).header.messageId).toBe('later');
  });

  it('corrupts the framing of the next downchannel push', async () => {
    sim.faults.corruptNext('downchannel', 'framing');
    sim.pushDirective({ directive: { header: { namespace: 'System', name: 'ResetUserInactivity', messageId: 'bad' }, payload: {} } });
    expect(await downchannel.parts.failed).toMatchObject({ code: 'BAD_DELIMITER' });
  });

  it('corrupts the JSON of the next event answer', async () => {
    sim.faults.corruptNext('event', 'json');
    const r = await sendEvent(session, sim.defaultToken, volumeChanged()).response;
    const part = await answerParts(r).next();
    expect(part.kind === 'directive' && part.result.kind).toBe('invalid');
  });

  it('stops answering pings, and answers them again on resume', async () => {
    sim.faults.stopPings();
    let answered = false;
    const held = ping(session, sim.defaultToken).then((r) => {
      answered = true;
      return r;
    });
    // Requests are handled in order: an event answered after the ping proves the ping is held.
    expect((await sendEvent(session, sim.defaultToken, volumeChanged()).response).status).toBe(200);
    expect(answered).toBe(false);
    sim.faults.resumePings();
    expect((await held).status).toBe(204);
  });

  it('takes faults as JSON on POST /sim/fault, and names what is wrong', async () => {
    const ok = await request(session, { ':method': 'POST', ':path': '/sim/fault', 'content-type': 'application/json' }, JSON.stringify({ fault: 'status', status: 503, target: 'ping' }));
    expect(ok.status).toBe(204);
    expect((await ping(session, sim.defaultToken)).status).toBe(503);
    const bad = await request(session, { ':method': 'POST', ':path': '/sim/fault' }, JSON.stringify({ fault: 'status', status: 418 }));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).error).toContain('$.status');
    const unknown = await request(session, { ':method': 'POST', ':path': '/sim/fault' }, JSON.stringify({ fault: 'melt' }));
    expect(JSON.parse(unknown.body.toString()).error).toContain('$.fault');
  });

  it('drops connections on POST /sim/fault after answering it', async () => {
    const control = await connect(sim);
    const closed = new Promise((resolve) => session.once('close', resolve));
    const r = await request(control, { ':method': 'POST', ':path': '/sim/fault' }, JSON.stringify({ fault: 'drop' }));
    expect(r.status).toBe(204);
    await closed;
    await closeSession(control);
  });
});

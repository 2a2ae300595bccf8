// The AVS device API of the simulator (PROTOCOL.md §1, §5.3, §5.5), over h2c with a plain client.
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { decodeDirective } from '../../machines/catalog';
import { AVS_CONTENT_TYPE, startSimulator, type Simulator } from '.';
import {
  answerDirectives,
  bearer,
  closeSession,
  connect,
  event,
  openDownchannel,
  type OpenDownchannel,
  pacedAudio,
  PartQueue,
  ping,
  recognize,
  request,
  sendEvent,
  synchronizeState,
} from './test-client';
import { boundaryFromContentType } from '../../services/multipart';

describe('the simulator as AVS', () => {
  let sim: Simulator;
  let session: ClientHttp2Session;
  let downchannel: OpenDownchannel;
  const tracePath = join(tmpdir(), `avs-cloud-trace-${process.pid}.jsonl`);

  beforeAll(async () => {
    sim = await startSimulator({ h2c: true, tracePath, stopCapture: { idleMs: 150, afterAudioMs: 200 } });
    session = await connect(sim);
    downchannel = await openDownchannel(session, sim.defaultToken);
  });
  afterAll(async () => {
    await closeSession(session);
    await sim.stop();
  });

  it('refuses a request without a token, or with one it did not issue, with 403 and the JSON body', async () => {
    for (const headers of [{}, bearer('Atza|not-ours')]) {
      const r = await request(session, { ':path': '/ping', ...headers });
      expect(r.status).toBe(403);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-amzn-requestid']).toBeTruthy();
      const body = JSON.parse(r.body.toString()) as { header: { namespace: string; name: string }; payload: { code: string } };
      expect(body.header).toMatchObject({ namespace: 'System', name: 'Exception' });
      expect(body.payload.code).toBe('UNAUTHORIZED_REQUEST_EXCEPTION');
    }
    const dc = await request(session, { ':path': '/v20160207/directives', ...bearer('nope') });
    expect(dc.status).toBe(403);
  });

  it('answers GET /ping with 204', async () => {
    expect((await ping(session, sim.defaultToken)).status).toBe(204);
  });

  it('opens the downchannel as AVS does: 200 and the multipart type with the unquoted type parameter', () => {
    expect(downchannel.headers[':status']).toBe(200);
    expect(downchannel.headers['content-type']).toBe('multipart/related; boundary=------abcde123; type=application/json');
    expect(downchannel.headers['x-amzn-requestid']).toBeTruthy();
  });

  it('delivers a pushed directive on the downchannel at once', async () => {
    const doc = { directive: { header: { namespace: 'Speaker', name: 'SetVolume', messageId: 'push-1' }, payload: { volume: 40 } } };
    expect(sim.pushDirective(doc)).toBe('sent');
    const part = await downchannel.parts.next();
    expect(part.kind).toBe('directive');
    if (part.kind === 'directive') expect(part.result.kind === 'ok' && part.result.value.header.messageId).toBe('push-1');
  });

  it('refuses a second downchannel on the same connection and keeps the first', async () => {
    const r = await request(session, { ':path': '/v20160207/directives', ...bearer(sim.defaultToken) });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString()).payload.code).toBe('INVALID_REQUEST_EXCEPTION');
    sim.pushDirective({ directive: { header: { namespace: 'System', name: 'ResetUserInactivity', messageId: 'still-here' }, payload: {} } });
    expect((await downchannel.parts.nextDirective()).header.messageId).toBe('still-here');
  });

  it('answers SynchronizeState with 204 and records it', async () => {
    const sent = sendEvent(session, sim.defaultToken, synchronizeState());
    const r = await sent.response;
    expect(r.status).toBe(204);
    expect(r.headers['x-amzn-requestid']).toBeTruthy();
    const received = await sim.waitForEvent('System.SynchronizeState');
    const record = await received.completed;
    expect(record).toMatchObject({ kind: 'event', method: 'POST', path: '/v20160207/events', status: 204 });
    expect(record.headers.authorization).toBeUndefined();
    expect(record.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
  });

  it('refuses an invalid event with 400 INVALID_REQUEST_EXCEPTION naming the problem', async () => {
    const bad = event('Speaker', 'VolumeChanged', { volume: 150, muted: false });
    const r = await sendEvent(session, sim.defaultToken, bad).response;
    expect(r.status).toBe(400);
    const body = JSON.parse(r.body.toString()) as { payload: { code: string; description: string } };
    expect(body.payload.code).toBe('INVALID_REQUEST_EXCEPTION');
    expect(body.payload.description).toContain('$.event.payload.volume');
    const notMultipart = await request(session, { ':method': 'POST', ':path': '/v20160207/events', 'content-type': 'application/json', ...bearer(sim.defaultToken) }, '{}');
    expect(notMultipart.status).toBe(400);
  });

  it('records streamed audio chunk by chunk and sends StopCapture (NEAR_FIELD) before the request ends', async () => {
    const mic = pacedAudio(320, 10);
    const { doc, dialogRequestId } = recognize('NEAR_FIELD');
    const sent = sendEvent(session, sim.defaultToken, doc, mic.audio);
    // §1.7: the status comes before the upload ends.
    const headers = await sent.headers;
    expect(headers[':status']).toBe(200);
    const received = await sim.waitForEvent((e) => e.document.event.header.dialogRequestId === dialogRequestId);
    // §5.5: StopCapture on the downchannel, with the Recognize's dialogRequestId, while audio still flows.
    const stop = await downchannel.parts.nextDirective();
    expect(stop.header).toMatchObject({ namespace: 'SpeechRecognizer', name: 'StopCapture', dialogRequestId });
    expect(sent.stream.writableEnded).toBe(false);
    expect(received.audio?.bytes).toBeGreaterThan(0);
    mic.stop();
    const response = await sent.response;
    const record = await received.completed;
    expect(record.audio?.bytes).toBe(mic.written() * 320);
    expect(record.audio?.chunks).toBeGreaterThan(1);
    expect(record.audio?.arrivals.length).toBe(record.audio?.chunks);
    expect(record.audio?.lastChunkAt ?? 0).toBeGreaterThan(record.audio?.firstChunkAt ?? Infinity);

    // The answer (default scenario, first Recognize): a Speak of this dialog with its MP3.
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(AVS_CONTENT_TYPE);
    expect(response.body.subarray(0, 2).toString()).toBe('\r\n');
    const parts = new PartQueue(Readable.from([response.body]), String(boundaryFromContentType(String(response.headers['content-type']))));
    const speak = await parts.next();
    const attachment = await parts.next();
    if (speak.kind !== 'directive' || attachment.kind !== 'attachment') throw new Error('expected Speak then its attachment');
    const decoded = decodeDirective(JSON.parse(speak.text));
    if (decoded.kind !== 'ok') throw new Error(`Speak did not decode: ${JSON.stringify(decoded)}`);
    expect(decoded.header).toMatchObject({ namespace: 'SpeechSynthesizer', name: 'Speak', dialogRequestId });
    expect((decoded.value.payload as { url: string }).url).toBe(`cid:${attachment.contentId}`);
    const mp3 = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      attachment
        .open()
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => resolve(Buffer.concat(chunks)));
    });
    expect(mp3.subarray(0, 4)).toEqual(Buffer.from([0xff, 0xf3, 0x48, 0xc0]));
  });

  it('never sends StopCapture for CLOSE_TALK', async () => {
    const { doc, dialogRequestId } = recognize('CLOSE_TALK');
    const mic = pacedAudio(320, 5);
    const sent = sendEvent(session, sim.defaultToken, doc, mic.audio);
    // Well past afterAudioMs (200 ms of audio) before the "button" is released.
    await sim.waitForAudio((a) => a.bytes >= 3 * 6400, { dialogRequestId });
    mic.stop();
    expect((await sent.response).status).toBe(200);
    // A marker pushed after the answer is the next downchannel part: no StopCapture came before it.
    sim.pushDirective({ directive: { header: { namespace: 'System', name: 'ResetUserInactivity', messageId: 'marker' }, payload: {} } });
    expect((await downchannel.parts.nextDirective()).header.messageId).toBe('marker');
  });

  it('answers by tag: x-sim-tag picks the timer answer, SetAlert a few seconds ahead', async () => {
    const { doc, dialogRequestId } = recognize('CLOSE_TALK');
    const mic = pacedAudio(320, 10);
    const sent = sendEvent(session, sim.defaultToken, doc, mic.audio, { 'x-sim-tag': 'timer' });
    await sent.headers;
    mic.stop();
    const directives = await answerDirectives(await sent.response);
    expect(directives.map((d) => d.directive.header.name)).toEqual(['Speak', 'SetAlert']);
    const decoded = decodeDirective(directives[1]);
    if (decoded.kind !== 'ok') throw new Error('SetAlert did not decode');
    expect(decoded.header.dialogRequestId).toBe(dialogRequestId);
    const payload = decoded.value.payload as { type: string; scheduledTime: string };
    expect(payload.type).toBe('TIMER');
    const ahead = Date.parse(payload.scheduledTime.replace('+0000', 'Z')) - Date.now();
    expect(ahead).toBeGreaterThan(3000);
    expect(ahead).toBeLessThanOrEqual(6000);
  });

  it('answers by a tag set beforehand (POST /sim/tag): "music" gets Speak and AudioPlayer.Play of the simulator\'s media', async () => {
    const tagged = await request(session, { ':method': 'POST', ':path': '/sim/tag', 'content-type': 'application/json' }, JSON.stringify({ tag: 'music' }));
    expect(tagged.status).toBe(204);
    const { doc } = recognize('CLOSE_TALK');
    const mic = pacedAudio(320, 10);
    const sent = sendEvent(session, sim.defaultToken, doc, mic.audio);
    await sent.headers;
    mic.stop();
    const directives = await answerDirectives(await sent.response);
    expect(directives.map((d) => d.directive.header.name)).toEqual(['Speak', 'Play']);
    const decoded = decodeDirective(directives[1]);
    if (decoded.kind !== 'ok') throw new Error('Play did not decode');
    const url = (decoded.value.payload as { audioItem: { stream: { url: string } } }).audioItem.stream.url;
    expect(url).toBe(`${sim.url}/media/song.mp3`);
  });

  it('serves AudioPlayer media without a token', async () => {
    const r = await request(session, { ':path': '/media/song.mp3' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('audio/mpeg');
    expect(r.body.length).toBe(Math.ceil(30000 / 36) * 144);
    expect((await request(session, { ':path': '/media/silence-360ms.mp3' })).body.length).toBe(10 * 144);
    expect((await request(session, { ':path': '/media/nothing.mp3' })).status).toBe(404);
  });

  it('writes a JSON-lines trace: one object per line, downchannel openings included', async () => {
    await ping(session, sim.defaultToken);
    const lines = readFileSync(tracePath, 'utf8').trimEnd().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as { type: string; kind?: string; state?: string; headers?: Record<string, string> });
    expect(parsed.some((l) => l.type === 'downchannel' && l.state === 'opened')).toBe(true);
    expect(parsed.filter((l) => l.type === 'request' && l.kind === 'event').length).toBeGreaterThanOrEqual(5);
    expect(parsed.some((l) => l.type === 'push')).toBe(true);
    expect(parsed.every((l) => l.headers?.authorization === undefined)).toBe(true);
    expect(sim.records.length).toBe(parsed.filter((l) => l.type === 'request').length);
  });
});

describe('StopCapture (§5.5)', () => {
  async function withSimulator(stopCapture: { idleMs: number; afterAudioMs: number }, run: (sim: Simulator, session: ClientHttp2Session, dc: OpenDownchannel) => Promise<void>) {
    const sim = await startSimulator({ h2c: true, stopCapture });
    const session = await connect(sim);
    try {
      await run(sim, session, await openDownchannel(session, sim.defaultToken));
    } finally {
      await closeSession(session);
      await sim.stop();
    }
  }

  it('comes once afterAudioMs of audio has arrived', () =>
    withSimulator({ idleMs: 60_000, afterAudioMs: 200 }, async (sim, session, dc) => {
      const mic = pacedAudio(640, 5);
      const { doc, dialogRequestId } = recognize('FAR_FIELD');
      const sent = sendEvent(session, sim.defaultToken, doc, mic.audio);
      const received = await sim.waitForEvent('Recognize');
      expect((await dc.parts.nextDirective()).header).toMatchObject({ name: 'StopCapture', dialogRequestId });
      // 200 ms of 16 kHz 16-bit PCM.
      expect(received.audio?.bytes).toBeGreaterThanOrEqual(6400);
      mic.stop();
      expect((await sent.response).status).toBe(200);
    }));

  it('comes when the audio stops arriving for idleMs, the upload still open', () =>
    withSimulator({ idleMs: 100, afterAudioMs: 60_000 }, async (sim, session, dc) => {
      const mic = pacedAudio(320, 10);
      const { doc, dialogRequestId } = recognize('NEAR_FIELD');
      const sent = sendEvent(session, sim.defaultToken, doc, mic.audio);
      await sim.waitForAudio((a) => a.chunks >= 2, { dialogRequestId });
      mic.hold();
      expect((await dc.parts.nextDirective()).header).toMatchObject({ name: 'StopCapture', dialogRequestId });
      expect(sent.stream.writableEnded).toBe(false);
      mic.stop();
      expect((await sent.response).status).toBe(200);
    }));
});

describe('a misbehaving client', () => {
  it('never brings the simulator down: garbage bytes, a reset upload, a dropped connection mid-event', async () => {
    const sim = await startSimulator({ h2c: true });
    const mic = pacedAudio(320, 5);
    const slow = pacedAudio(100, 5);
    try {
      // Not HTTP/2 at all.
      await new Promise<void>((resolve) => {
        const socket = connectTcp(sim.port, '127.0.0.1', () => socket.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\xff garbage'));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
        socket.resume();
      });
      // A Recognize reset by the client in the middle of its audio.
      const first = await connect(sim);
      const { doc, dialogRequestId } = recognize('CLOSE_TALK');
      const sent = sendEvent(first, sim.defaultToken, doc, mic.audio);
      await sim.waitForAudio((a) => a.chunks >= 2, { dialogRequestId });
      sent.stream.close(http2.constants.NGHTTP2_CANCEL);
      const record = await (await sim.waitForEvent('Recognize')).completed;
      expect(record.aborted).toBe(true);
      // A connection destroyed while its event body is half sent.
      const half = sendEvent(first, sim.defaultToken, synchronizeState(), slow.audio);
      half.response.catch(() => undefined);
      await sim.waitForEvent('SynchronizeState');
      first.destroy();
      // Still serving.
      const second = await connect(sim);
      expect((await ping(second, sim.defaultToken)).status).toBe(204);
      await closeSession(second);
    } finally {
      mic.stop();
      slow.stop();
      await sim.stop();
    }
  });
});

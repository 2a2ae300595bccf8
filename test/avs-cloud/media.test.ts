// Media for AudioPlayer URLs (PROTOCOL.md §8.3), shaped for the §8.6 event tests: stalls, slow
// streams, error statuses, failures in the middle, ID3 tags; HEAD; the scenario checks; records.
// Timing is only ever checked from below (a gap at least as long as the stall), never from above,
// so a slow machine cannot fail these tests.
import type { IncomingHttpHeaders } from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import {
  MP3_FRAME_BYTES,
  mediaMp3,
  parseScenario,
  type RequestRecord,
  type Scenario,
  ScenarioError,
  type Simulator,
  silentMp3,
  startSimulator,
} from '.';
import { closeSession, connect } from './test-client';

/** A response as it arrived: when each chunk came, and how it ended. */
interface Fetched {
  readonly status: number;
  readonly headers: IncomingHttpHeaders | http2.IncomingHttpHeaders;
  readonly chunks: readonly { at: number; bytes: number }[];
  readonly body: Buffer;
  /** When the request was made (before the server could have seen it). */
  readonly sentAt: number;
  /** The body ended normally (END_STREAM; all of content-length over HTTP/1.1). */
  readonly complete: boolean;
  /** HTTP/2: the RST_STREAM code the stream was reset with. */
  readonly rstCode?: number;
}

function fetchH2(session: http2.ClientHttp2Session, path: string, method = 'GET'): Promise<Fetched> {
  const sentAt = Date.now();
  const stream = session.request({ ':path': path, ':method': method });
  stream.end(); // no request body, whatever the method
  return new Promise((resolve) => {
    let status = 0;
    let headers: http2.IncomingHttpHeaders = {};
    let complete = false;
    const chunks: { at: number; bytes: number }[] = [];
    const data: Buffer[] = [];
    stream.on('response', (h) => {
      headers = h;
      status = Number(h[':status']);
    });
    stream.on('data', (c: Buffer) => {
      chunks.push({ at: Date.now(), bytes: c.length });
      data.push(c);
    });
    stream.on('end', () => (complete = true));
    stream.on('error', () => undefined); // a reset is an outcome here, read from rstCode
    stream.on('close', () =>
      resolve({ status, headers, chunks, body: Buffer.concat(data), sentAt, complete, ...(complete ? {} : { rstCode: stream.rstCode }) }),
    );
  });
}

function fetchHttp1(sim: Simulator, path: string, method = 'GET'): Promise<Fetched> {
  const sentAt = Date.now();
  return new Promise((resolve, reject) => {
    const req = https.request(`${sim.url}${path}`, { method, ca: sim.ca, agent: false }, (res) => {
      const chunks: { at: number; bytes: number }[] = [];
      const data: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push({ at: Date.now(), bytes: c.length });
        data.push(c);
      });
      res.on('error', () => undefined); // "aborted": an outcome here, read from res.complete
      res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, chunks, body: Buffer.concat(data), sentAt, complete: res.complete }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The record of a request made at `sentAt` or later; records are written when the exchange is over, so this polls a little. */
async function recordOf(sim: Simulator, method: string, path: string, sentAt: number): Promise<RequestRecord> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = sim.records.find((r) => r.method === method && r.path === path && r.at >= sentAt);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no record of ${method} ${path} (records: ${sim.records.map((r) => `${r.method} ${r.path}`).join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The pause in a response after its first `bytes` bytes: the arrival of the chunk that ends
 * exactly there and of the next one. Fails when no chunk ends there — the stall must come at a
 * frame boundary, with nothing after it sent before it.
 */
function gapAfter(fetched: Fetched, bytes: number): number {
  let total = 0;
  for (let i = 0; i < fetched.chunks.length - 1; i++) {
    total += fetched.chunks[i].bytes;
    if (total === bytes) return fetched.chunks[i + 1].at - fetched.chunks[i].at;
    if (total > bytes) break;
  }
  throw new Error(`no chunk ends at byte ${bytes} (chunks: ${fetched.chunks.map((c) => c.bytes).join(', ')})`);
}

/** The frames of an ID3v2.3 tag, read independently of mp3.ts: frame id → its text. */
function id3Frames(file: Buffer): Record<string, string> {
  expect([...file.subarray(0, 6)]).toEqual([0x49, 0x44, 0x33, 3, 0, 0]); // "ID3" v2.3.0, no flags
  const sizeBytes = [...file.subarray(6, 10)];
  expect(sizeBytes.every((b) => b < 0x80)).toBe(true); // syncsafe
  const end = 10 + sizeBytes.reduce((n, b) => n * 128 + b, 0);
  const text = (encoding: number, bytes: Buffer): string => {
    if (encoding === 0) return bytes.toString('latin1');
    expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe]); // UTF-16 with a little-endian BOM
    return bytes.subarray(2).toString('utf16le');
  };
  const frames: Record<string, string> = {};
  for (let at = 10; at < end; ) {
    const id = file.toString('latin1', at, at + 4);
    const size = file.readUInt32BE(at + 4);
    expect(file.readUInt16BE(at + 8)).toBe(0); // no frame flags
    const content = file.subarray(at + 10, at + 10 + size);
    if (id === 'COMM') {
      // encoding, language, short description + null, text
      const encoding = content[0];
      expect(content.toString('latin1', 1, 4)).toBe('eng');
      const rest = content.subarray(4);
      const nul = encoding === 0 ? rest.indexOf(0) + 1 : rest.indexOf(Buffer.from([0, 0])) + 2;
      frames[id] = text(encoding, rest.subarray(nul));
    } else {
      frames[id] = text(content[0], content.subarray(1));
    }
    at += 10 + size;
  }
  expect(file.readUInt32BE(end)).toBe(0xfff348c0); // the first MP3 frame right after the tag
  return frames;
}

const errorOf = (media: unknown): string => {
  try {
    parseScenario({ media });
  } catch (e) {
    if (e instanceof ScenarioError) return e.message;
    throw e;
  }
  throw new Error('the scenario was accepted');
};

describe('scenario media checks', () => {
  it('accepts every field, and status alone', () => {
    const scenario = parseScenario({
      media: {
        song: {
          durationMs: 30000,
          stallAtMs: 5000,
          stallForMs: 2000,
          bytesPerSecond: 8000,
          failAfterMs: 20000,
          tags: { title: 'T', artist: 'A', album: 'B', albumArtist: 'C', trackNumber: 3, genre: 'G', year: 2024, composer: 'D', comment: 'E' },
          description: 'everything at once',
        },
        gone: { status: 404 },
        'track_2.v1~x': { durationMs: 1, tags: { trackNumber: '3/12', year: '1999' } },
      },
    });
    expect(scenario.media?.gone).toEqual({ status: 404 });
  });

  it('names an unknown key, in the entry and in its tags', () => {
    expect(errorOf({ song: { durationMs: 1000, stallAt: 10 } })).toMatch(/\$\.media\.song\.stallAt: unknown key \(expected one of: durationMs, stallAtMs,/);
    expect(errorOf({ song: { durationMs: 1000, tags: { titel: 'x' } } })).toMatch(/\$\.media\.song\.tags\.titel: unknown key \(expected one of: title, artist, album,/);
    expect(errorOf({ song: { durationMs: 1000, tags: {} } })).toMatch(/\$\.media\.song\.tags: give at least one tag/);
  });

  it('wants positive integers, a 4xx/5xx status and 4-digit years', () => {
    expect(errorOf({ song: { durationMs: 0 } })).toMatch(/\$\.media\.song\.durationMs: expected integer ≥ 1, got 0/);
    expect(errorOf({ song: { durationMs: 1000, failAfterMs: 1.5 } })).toMatch(/\$\.media\.song\.failAfterMs: expected integer ≥ 1, got 1\.5/);
    expect(errorOf({ song: { durationMs: 1000, bytesPerSecond: '8000' } })).toMatch(/\$\.media\.song\.bytesPerSecond: expected integer ≥ 1, got "8000"/);
    expect(errorOf({ song: { durationMs: 1000, stallAtMs: -1, stallForMs: 10 } })).toMatch(/\$\.media\.song\.stallAtMs: expected integer ≥ 1, got -1/);
    expect(errorOf({ song: { status: 200 } })).toMatch(/\$\.media\.song\.status: expected HTTP status 400\.\.599, got 200/);
    expect(errorOf({ song: { durationMs: 1000, tags: { year: '24' } } })).toMatch(/\$\.media\.song\.tags\.year: expected year \(4 digits\), got "24"/);
    expect(errorOf({ song: { durationMs: 1000, tags: { title: '' } } })).toMatch(/\$\.media\.song\.tags\.title: expected non-empty string/);
  });

  it('refuses fields that do not go together', () => {
    expect(errorOf({ song: {} })).toMatch(/\$\.media\.song: give "durationMs" \(the audio\) or "status"/);
    expect(errorOf({ song: { status: 503, durationMs: 1000 } })).toMatch(/\$\.media\.song\.durationMs: not with "status"/);
    expect(errorOf({ song: { status: 503, tags: { title: 'x' } } })).toMatch(/\$\.media\.song\.tags: not with "status"/);
    expect(errorOf({ song: { durationMs: 1000, stallForMs: 100 } })).toMatch(/\$\.media\.song\.stallForMs: only with "stallAtMs"/);
    expect(errorOf({ song: { durationMs: 1000, stallAtMs: 100 } })).toMatch(/\$\.media\.song\.stallAtMs: only with "stallForMs"/);
    expect(errorOf({ song: { durationMs: 1000, stallAtMs: 1000, stallForMs: 100 } })).toMatch(/\$\.media\.song\.stallAtMs: must be less than durationMs \(1000\)/);
    expect(errorOf({ song: { durationMs: 1000, failAfterMs: 2000 } })).toMatch(/\$\.media\.song\.failAfterMs: must be less than durationMs \(1000\)/);
    expect(errorOf({ song: { durationMs: 1000, stallAtMs: 600, stallForMs: 100, failAfterMs: 500 } })).toMatch(
      /\$\.media\.song\.stallAtMs: must be less than failAfterMs \(500\)/,
    );
  });

  it('wants media names that go in a URL as they are', () => {
    expect(errorOf({ 'my song': { durationMs: 1000 } })).toMatch(/\$\.media\["my song"\]: a media name takes letters, digits/);
    expect(errorOf({ 'a/b': { durationMs: 1000 } })).toMatch(/\$\.media\["a\/b"\]: a media name/);
  });
});

const TAGS = { title: 'Song Title', artist: 'Sömé Ärtist', album: '東京', trackNumber: 3, year: 2024, genre: 'Pop', comment: 'née ☃' };

const scenario: Scenario = {
  media: {
    plain: { durationMs: 1000 },
    tagged: { durationMs: 1000, tags: TAGS },
    stall: { durationMs: 1000, stallAtMs: 360, stallForMs: 400, tags: { title: 'Stalled' } },
    slow: { durationMs: 1000, bytesPerSecond: 8000 },
    'slow-stall': { durationMs: 1000, bytesPerSecond: 20000, stallAtMs: 500, stallForMs: 300 },
    broken: { durationMs: 1000, failAfterMs: 500 },
    'stall-then-break': { durationMs: 1000, stallAtMs: 180, stallForMs: 300, failAfterMs: 500 },
    missing: { status: 404 },
    failing: { status: 500 },
    unavailable: { status: 503 },
  },
};
/** 28 frames of 144 bytes: 1008 ms. */
const FILE_BYTES = 28 * MP3_FRAME_BYTES;

describe('media over HTTP/2 (h2c)', () => {
  let sim: Simulator;
  let session: http2.ClientHttp2Session;

  beforeAll(async () => {
    sim = await startSimulator({ h2c: true, scenario });
    session = await connect(sim);
  });
  afterAll(async () => {
    await closeSession(session);
    await sim.stop();
  });

  it('serves durationMs of silence whole, and silence-<N>ms.mp3 still', async () => {
    const r = await fetchH2(session, '/media/plain.mp3');
    expect(r).toMatchObject({ status: 200, complete: true });
    expect(r.headers['content-type']).toBe('audio/mpeg');
    expect(r.headers['content-length']).toBe(String(FILE_BYTES));
    expect(r.body.equals(silentMp3(1000))).toBe(true);
    const generated = await fetchH2(session, '/media/silence-360ms.mp3');
    expect(generated.body.equals(silentMp3(360))).toBe(true);
    expect((await fetchH2(session, '/media/nothing.mp3')).status).toBe(404);
    expect((await fetchH2(session, '/media/constructor.mp3')).status).toBe(404);
  });

  it('puts an ID3v2.3 tag with the scenario tags in front of the MP3 frames (§8.6 StreamMetadataExtracted)', async () => {
    const r = await fetchH2(session, '/media/tagged.mp3');
    expect(r.status).toBe(200);
    expect(id3Frames(r.body)).toEqual({
      TIT2: 'Song Title',
      TPE1: 'Sömé Ärtist', // fits ISO-8859-1
      TALB: '東京', // does not: UTF-16
      TRCK: '3',
      TYER: '2024',
      TCON: 'Pop',
      COMM: 'née ☃',
    });
    expect(r.body.subarray(r.body.length - FILE_BYTES).equals(silentMp3(1000))).toBe(true);
    expect(r.body.equals(mediaMp3(1000, TAGS))).toBe(true);
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
  });

  it('stalls at stallAtMs for stallForMs, then sends the rest (§8.6 PlaybackStutterStarted/Finished)', async () => {
    const r = await fetchH2(session, '/media/stall.mp3');
    expect(r).toMatchObject({ status: 200, complete: true });
    const tag = r.body.length - FILE_BYTES;
    expect(r.body.subarray(tag).equals(silentMp3(1000))).toBe(true);
    // 360 ms = 10 frames: the tag and those frames, then nothing for (at least) 400 ms.
    expect(gapAfter(r, tag + 10 * MP3_FRAME_BYTES)).toBeGreaterThanOrEqual(400 * 0.8);
    const record = await recordOf(sim, 'GET', '/media/stall.mp3', r.sentAt);
    expect(record).toMatchObject({ kind: 'media', status: 200, protocol: 'h2' });
    expect(record.aborted).toBeUndefined();
    expect(record.durationMs).toBeGreaterThanOrEqual(400);
  });

  it('sends at bytesPerSecond, in several chunks', async () => {
    const r = await fetchH2(session, '/media/slow.mp3');
    expect(r).toMatchObject({ status: 200, complete: true });
    expect(r.body.equals(silentMp3(1000))).toBe(true);
    expect(r.chunks.length).toBeGreaterThanOrEqual(3);
    // The server writes a tick (50 ms) ahead of the rate: the last byte leaves no earlier than this.
    expect(r.chunks[r.chunks.length - 1].at - r.sentAt).toBeGreaterThanOrEqual(0.8 * ((FILE_BYTES / 8000) * 1000 - 50));
  });

  it('stalls a paced stream too, at the frame boundary', async () => {
    const r = await fetchH2(session, '/media/slow-stall.mp3');
    expect(r).toMatchObject({ status: 200, complete: true });
    expect(r.body.equals(silentMp3(1000))).toBe(true);
    expect(gapAfter(r, 14 * MP3_FRAME_BYTES)).toBeGreaterThanOrEqual(300 * 0.8); // ceil(500 / 36) = 14 frames
  });

  it('resets the stream after failAfterMs of audio (§8.6 PlaybackFailed in the middle), having announced the whole length', async () => {
    const r = await fetchH2(session, '/media/broken.mp3');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(FILE_BYTES));
    expect(r.complete).toBe(false);
    expect(r.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
    expect(r.body.equals(silentMp3(1000).subarray(0, 14 * MP3_FRAME_BYTES))).toBe(true);
    const record = await recordOf(sim, 'GET', '/media/broken.mp3', r.sentAt);
    expect(record).toMatchObject({ kind: 'media', status: 200, aborted: true });
  });

  it('stalls, then fails', async () => {
    const r = await fetchH2(session, '/media/stall-then-break.mp3');
    expect(r.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
    expect(r.body.length).toBe(14 * MP3_FRAME_BYTES);
    expect(gapAfter(r, 5 * MP3_FRAME_BYTES)).toBeGreaterThanOrEqual(300 * 0.8);
  });

  it.each([
    ['missing', 404],
    ['failing', 500],
    ['unavailable', 503],
  ])('answers %s.mp3 with %i and no audio (§8.6 PlaybackFailed)', async (name, status) => {
    const r = await fetchH2(session, `/media/${name}.mp3`);
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(r.body.toString()).message).toContain(`status ${status}`);
    const record = await recordOf(sim, 'GET', `/media/${name}.mp3`, r.sentAt);
    expect(record).toMatchObject({ kind: 'media', status });
    expect(record.note).toContain(`status ${status}`);
  });

  it('answers HEAD with the headers of the GET and no body', async () => {
    for (const name of ['plain', 'tagged', 'stall', 'slow', 'broken', 'silence-720ms']) {
      const [head, get] = [await fetchH2(session, `/media/${name}.mp3`, 'HEAD'), await fetchH2(session, `/media/${name}.mp3`)];
      expect({ name, status: head.status, bytes: head.body.length, complete: head.complete }).toEqual({ name, status: 200, bytes: 0, complete: true });
      expect(head.headers['content-type']).toBe('audio/mpeg');
      expect(head.headers['content-length']).toBe(get.headers['content-length']);
    }
    const failing = await fetchH2(session, '/media/unavailable.mp3', 'HEAD');
    expect([failing.status, failing.body.length]).toEqual([503, 0]);
    expect((await fetchH2(session, '/media/song.mp3', 'POST')).status).toBe(405);
  });

  it('records every media request, HEAD included, from when it arrived', async () => {
    const sentAt = Date.now();
    await fetchH2(session, '/media/plain.mp3', 'HEAD');
    await fetchH2(session, '/media/tagged.mp3');
    await fetchH2(session, '/media/missing.mp3');
    const head = await recordOf(sim, 'HEAD', '/media/plain.mp3', sentAt);
    const get = await recordOf(sim, 'GET', '/media/tagged.mp3', sentAt);
    const missing = await recordOf(sim, 'GET', '/media/missing.mp3', sentAt);
    expect([head, get, missing].map((r) => [r.kind, r.status])).toEqual([
      ['media', 200],
      ['media', 200],
      ['media', 404],
    ]);
    expect(get.at).toBeGreaterThanOrEqual(head.at);
  });
});

describe('media over HTTP/1.1 (TLS)', () => {
  let sim: Simulator;

  beforeAll(async () => {
    sim = await startSimulator({ scenario });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('stalls, then sends the rest', async () => {
    const r = await fetchHttp1(sim, '/media/stall.mp3');
    expect(r).toMatchObject({ status: 200, complete: true });
    expect(gapAfter(r, r.body.length - FILE_BYTES + 10 * MP3_FRAME_BYTES)).toBeGreaterThanOrEqual(400 * 0.8);
    expect(await recordOf(sim, 'GET', '/media/stall.mp3', r.sentAt)).toMatchObject({ kind: 'media', protocol: 'http/1.1', status: 200 });
  });

  it('destroys the connection after failAfterMs of audio: the body stops short of content-length', async () => {
    const r = await fetchHttp1(sim, '/media/broken.mp3');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe(String(FILE_BYTES));
    expect(r.complete).toBe(false);
    expect(r.body.equals(silentMp3(1000).subarray(0, 14 * MP3_FRAME_BYTES))).toBe(true);
    expect(await recordOf(sim, 'GET', '/media/broken.mp3', r.sentAt)).toMatchObject({ kind: 'media', aborted: true });
  });

  it('answers HEAD and error statuses', async () => {
    const head = await fetchHttp1(sim, '/media/tagged.mp3', 'HEAD');
    expect([head.status, head.body.length, Number(head.headers['content-length'])]).toEqual([200, 0, mediaMp3(1000, TAGS).length]);
    expect((await fetchHttp1(sim, '/media/unavailable.mp3')).status).toBe(503);
  });
});

describe('a stalled stream', () => {
  it('is cut off when the simulator stops, and recorded as aborted', async () => {
    const sim = await startSimulator({ h2c: true, scenario: { media: { long: { durationMs: 1000, stallAtMs: 36, stallForMs: 600_000 } } } });
    const session = await connect(sim);
    try {
      const sentAt = Date.now();
      const stream = session.request({ ':path': '/media/long.mp3' });
      stream.end();
      stream.on('error', () => undefined);
      let bytes = 0;
      stream.on('data', (c: Buffer) => (bytes += c.length));
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      await new Promise((resolve) => stream.once('data', resolve)); // the first frame (36 ms), then the stall
      await sim.stop();
      await closed;
      expect(bytes).toBe(MP3_FRAME_BYTES); // nothing after the stall
      expect(await recordOf(sim, 'GET', '/media/long.mp3', sentAt)).toMatchObject({ kind: 'media', status: 200, aborted: true });
    } finally {
      await closeSession(session);
      await sim.stop();
    }
  });
});

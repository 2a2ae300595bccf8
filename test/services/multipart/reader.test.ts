// PROTOCOL.md §1.5.1 and §4.4 step 5: directives out as they complete, attachments as streams
// from their first byte, found by Content-ID, memory bounded.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { firstValueFrom, lastValueFrom, toArray, take } from 'rxjs';
import { AttachmentError, AttachmentStore, AvsPartReader, type AvsPart, readMultipart, MultipartError } from '../../../services/multipart';
import { FIXTURES } from '../../support/fixtures';
import { buildBody } from '../../support/multipart';

const B = '------abcde123';
const response = readFileSync(join(FIXTURES, 'multipart', 'recognize-response.multipart'));
const TTS_ID = 'DeviceTTSRendererV4_4a6b1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d_1934409815';
const JSON_PART = { 'Content-Type': 'application/json; charset=UTF-8' };
const directive = (name: string, payload: object, id = `m-${name}`) =>
  Buffer.from(JSON.stringify({ directive: { header: { namespace: 'Speaker', name, messageId: id }, payload } }));

const readAll = (s: Readable): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });

const errorOf = (s: Readable): Promise<AttachmentError> =>
  new Promise((resolve, reject) => {
    s.on('error', (e) => resolve(e as AttachmentError));
    s.on('end', () => reject(new Error('ended without an error')));
    s.resume();
  });

const names = (parts: AvsPart[]) =>
  parts.map((p) => (p.kind === 'directive' ? (p.result.kind === 'ok' ? p.result.value.header.name : p.result.kind) : p.kind));

describe('readMultipart', () => {
  it('decodes the §14.6 answer: Speak, ExpectSpeech and the MP3 by its cid', async () => {
    const store = new AttachmentStore();
    const parts = await lastValueFrom(readMultipart(Readable.from([response]), B, { store }).pipe(toArray()));
    expect(names(parts)).toEqual(['Speak', 'ExpectSpeech', 'attachment']);
    const speak = parts[0];
    if (speak.kind !== 'directive' || speak.result.kind !== 'ok') throw new Error('no Speak');
    const url = (speak.result.value.payload as { url: string }).url;
    const mp3 = await readAll(store.open(url));
    expect(createHash('sha256').update(mp3).digest('hex')).toBe('dbe1cff3f3bed52c49f73ce452dbd6714a9278afb069680160759087256243da');
  });

  it('streams an attachment straight from its part', async () => {
    const parts = await lastValueFrom(readMultipart(Readable.from([response]), B).pipe(toArray()));
    const attachment = parts[2];
    if (attachment.kind !== 'attachment') throw new Error('no attachment');
    expect(attachment.contentId).toBe(TTS_ID);
    expect((await readAll(attachment.open())).length).toBe(4034);
  });

  it('matches cid: references to Content-IDs case-insensitively, brackets stripped', async () => {
    const store = new AttachmentStore();
    await lastValueFrom(readMultipart(Readable.from([response]), B, { store }).pipe(toArray()));
    expect(store.has(`cid:${TTS_ID.toUpperCase()}`)).toBe(true);
    expect(store.has(`<${TTS_ID}>`)).toBe(true);
    expect((await readAll(store.open(`cid:${TTS_ID.toLowerCase()}`))).length).toBe(4034);
  });

  it('hands out an attachment opened before it arrives, as it arrives', async () => {
    const store = new AttachmentStore();
    const source = new PassThrough();
    const parts: AvsPart[] = [];
    readMultipart(source, 'b', { store }).subscribe((p) => parts.push(p));
    source.write(`--b\r\nContent-Type: application/json\r\n\r\n${directive('SetVolume', { volume: 5 })}\r\n--b\r\n`);
    const early = store.open('cid:later'); // the directive names it; it has not arrived
    const first = new Promise<Buffer>((resolve) => early.once('data', resolve));
    source.write('Content-ID: <later>\r\nContent-Type: application/octet-stream\r\n\r\nfirst bytes');
    // Speech starts before its attachment is complete (§1.5.1): the first bytes are out already.
    expect((await first).toString()).toBe('first bytes');
    const rest = readAll(early);
    source.end(' and the rest\r\n--b--\r\n');
    expect((await rest).toString()).toBe(' and the rest');
  });

  it('keeps an attachment that came before its directive until the directive opens it', async () => {
    const store = new AttachmentStore();
    const body = buildBody('b', [
      { headers: { 'Content-ID': '<tts-1>', 'Content-Type': 'application/octet-stream' }, body: Buffer.from('mp3 bytes') },
      { headers: JSON_PART, body: directive('SetVolume', { volume: 5 }) },
    ]);
    const parts = await lastValueFrom(readMultipart(Readable.from([body]), 'b', { store }).pipe(toArray()));
    expect(names(parts)).toEqual(['attachment', 'SetVolume']);
    expect((await readAll(store.open('cid:tts-1'))).toString()).toBe('mp3 bytes');
    expect(store.size).toBe(0);
  });

  it('emits a downchannel directive at once when the stream goes idle after its delimiter', async () => {
    const source = new PassThrough();
    const got = firstValueFrom(readMultipart(source, B).pipe(take(1)));
    source.write(`--${B}\r\nContent-Type: application/json\r\n\r\n${directive('SetVolume', { volume: 40 })}\r\n--${B}\r\n`);
    // Nothing more is written and the stream stays open: the directive must still come out.
    const part = await got;
    expect(part.kind === 'directive' && part.result.kind).toBe('ok');
    expect(source.writableEnded).toBe(false);
    source.destroy();
  });

  it('drains an attachment nobody opens, so the parts after it still come', async () => {
    const store = new AttachmentStore({ maxUnclaimedBytes: 1024 * 1024 });
    const body = buildBody('b', [
      { headers: { 'Content-ID': '<unwanted>' }, body: randomBytes(5 * 1024 * 1024) },
      { headers: JSON_PART, body: directive('SetMute', { mute: true }) },
    ]);
    const chunks = Array.from({ length: Math.ceil(body.length / 16384) }, (_, i) => body.subarray(i * 16384, (i + 1) * 16384));
    const parts = await lastValueFrom(readMultipart(Readable.from(chunks), 'b', { store }).pipe(toArray()));
    expect(names(parts)).toEqual(['attachment', 'SetMute']);
    const e = await errorOf(store.open('cid:unwanted'));
    expect(e.code).toBe('ATTACHMENT_DISCARDED');
    expect(store.size).toBe(0);
  });

  it('drops a received attachment nobody opened after a while, and says so', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const store = new AttachmentStore({ unclaimedTtlMs: 5000 });
      const body = buildBody('b', [{ headers: { 'Content-ID': '<old>' }, body: Buffer.from('x') }]);
      const parts: AvsPart[] = [];
      const reader = readMultipart(Readable.from([body]), 'b', { store }).subscribe((p) => parts.push(p));
      await jest.advanceTimersByTimeAsync(10);
      expect(parts).toHaveLength(1);
      expect(store.has('old')).toBe(true);
      await jest.advanceTimersByTimeAsync(5000);
      const e = await errorOf(store.open('cid:old'));
      expect(e.code).toBe('ATTACHMENT_DISCARDED');
      reader.unsubscribe();
    } finally {
      jest.useRealTimers();
    }
  });

  it('fails an opened attachment that never arrives', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const store = new AttachmentStore({ missingTimeoutMs: 2000 });
      const pending = errorOf(store.open('cid:never'));
      await jest.advanceTimersByTimeAsync(2001);
      expect((await pending).code).toBe('ATTACHMENT_MISSING');
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses a second reader of the same attachment', async () => {
    const store = new AttachmentStore();
    const first = errorOf(store.open('cid:a'));
    expect((await errorOf(store.open('cid:A'))).code).toBe('ATTACHMENT_ALREADY_OPENED');
    store.close(); // the first reader learns the attachment will not come
    expect((await first).code).toBe('ATTACHMENT_MISSING');
  });

  it('holds back the source while an attachment consumer is full, and goes on when it reads', async () => {
    const store = new AttachmentStore();
    const source = new PassThrough({ highWaterMark: 16384 });
    const parts: AvsPart[] = [];
    let done = false;
    readMultipart(source, 'b', { store }).subscribe({ next: (p) => parts.push(p), complete: () => (done = true) });
    source.write('--b\r\nContent-ID: <big>\r\n\r\n');
    const stream = store.open('cid:big');
    const total = 4 * 1024 * 1024;
    const payload = Buffer.alloc(total, 1);
    // Write without waiting: whatever the consumer does not take must pile up in `source`, not in the store.
    for (let i = 0; i < total; i += 16384) source.write(payload.subarray(i, i + 16384));
    source.end('\r\n--b\r\nContent-Type: application/json\r\n\r\n{"directive":{"header":{"namespace":"Speaker","name":"SetMute","messageId":"z"},"payload":{"mute":false}}}\r\n--b--\r\n');
    await new Promise((r) => setImmediate(r));
    // It reads ahead of the consumer by at most 1 MiB (the default), then waits.
    expect(stream.readableLength).toBeLessThanOrEqual(1024 * 1024 + 16384);
    expect(source.isPaused()).toBe(true);
    expect(done).toBe(false);
    const bytes = await readAll(stream);
    expect(bytes.length).toBe(total);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(true);
    expect(names(parts)).toEqual(['attachment', 'SetMute']);
  });

  it('goes on to the next attachment when a full consumer\'s attachment has ended (no stall)', async () => {
    const store = new AttachmentStore({ readAheadBytes: 1024 });
    const source = new PassThrough();
    const parts: AvsPart[] = [];
    let done = false;
    readMultipart(source, 'b', { store }).subscribe({ next: (p) => parts.push(p), complete: () => (done = true) });
    const a = store.open('cid:a'); // opened, but nobody reads it yet
    // One chunk: all of A (beyond the read-ahead), its delimiter, and the start of B nobody opened.
    source.write(`--b\r\nContent-ID: <a>\r\n\r\n${'A'.repeat(40_000)}\r\n--b\r\nContent-ID: <b>\r\n\r\nBBB`);
    source.end(`BBB\r\n--b\r\nContent-Type: application/json\r\n\r\n${directive('SetVolume', { volume: 9 })}\r\n--b--\r\n`);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(true);
    expect(names(parts)).toEqual(['attachment', 'attachment', 'SetVolume']);
    expect((await readAll(a)).length).toBe(40_000);
    expect((await readAll(store.open('cid:b'))).toString()).toBe('BBBBBB');
  });

  it('lets an early consumer that is not reading yet fall behind without holding up the body', async () => {
    const store = new AttachmentStore(); // reads ahead 1 MiB
    const body = buildBody('b', [
      { headers: { 'Content-ID': '<speech-2>' }, body: Buffer.alloc(200_000, 2) }, // a typical TTS answer
      { headers: JSON_PART, body: directive('SetMute', { mute: false }) },
    ]);
    const parts: AvsPart[] = [];
    const second = store.open('cid:speech-2'); // a second Speak, queued behind the first
    await lastValueFrom(readMultipart(Readable.from([body]), 'b', { store }).pipe(toArray())).then((p) => parts.push(...p));
    expect(names(parts)).toEqual(['attachment', 'SetMute']);
    expect((await readAll(second)).length).toBe(200_000);
  });

  it('lets a later part with a used Content-ID replace a complete one; its reader reads on', async () => {
    const store = new AttachmentStore();
    const source = new PassThrough();
    const done = lastValueFrom(readMultipart(source, 'b', { store }).pipe(toArray()));
    source.write('--b\r\nContent-ID: <X>\r\n\r\nfirst\r\n--b\r\n');
    const first = readAll(store.open('cid:x'));
    source.end('Content-ID: <x>\r\n\r\nsecond\r\n--b--\r\n');
    await done;
    expect((await first).toString()).toBe('first');
    expect((await readAll(store.open('cid:X'))).toString()).toBe('second');
  });

  it('fails the reader of an attachment still arriving when another body brings the same Content-ID', async () => {
    const store = new AttachmentStore(); // shared by two bodies, as on one connection
    const one = new PassThrough();
    const two = new PassThrough();
    readMultipart(one, 'b', { store }).subscribe({ error: () => {} });
    const secondDone = lastValueFrom(readMultipart(two, 'b', { store }).pipe(toArray()));
    one.write('--b\r\nContent-ID: <x>\r\n\r\nfirst, still arriving');
    const first = errorOf(store.open('cid:x'));
    two.end('--b\r\nContent-ID: <x>\r\n\r\nsecond\r\n--b--\r\n');
    await secondDone;
    expect((await first).code).toBe('ATTACHMENT_REPLACED'); // never a silent end
    expect((await readAll(store.open('cid:x'))).toString()).toBe('second');
    one.destroy();
  });

  it('keeps all unopened attachments within a store-wide budget, dropping the oldest', async () => {
    const store = new AttachmentStore({ maxUnclaimedBytes: 1_000_000, maxUnclaimedTotalBytes: 2_500_000 });
    const body = buildBody(
      'b',
      Array.from({ length: 5 }, (_, i) => ({ headers: { 'Content-ID': `<a${i}>` }, body: Buffer.alloc(900_000, i) })),
    );
    await lastValueFrom(readMultipart(Readable.from([body]), 'b', { store }).pipe(toArray()));
    expect(store.unclaimedBytes).toBeLessThanOrEqual(2_500_000);
    expect((await errorOf(store.open('cid:a0'))).code).toBe('ATTACHMENT_DISCARDED');
    expect((await errorOf(store.open('cid:a1'))).code).toBe('ATTACHMENT_DISCARDED');
    expect((await readAll(store.open('cid:a4'))).length).toBe(900_000);
  });

  it('keeps the number of unopened attachments bounded', async () => {
    const store = new AttachmentStore({ maxUnclaimedAttachments: 10 });
    const body = buildBody('b', Array.from({ length: 1000 }, (_, i) => ({ headers: { 'Content-ID': `<t${i}>` }, body: Buffer.from('x') })));
    await lastValueFrom(readMultipart(Readable.from([body]), 'b', { store }).pipe(toArray()));
    expect(store.size).toBeLessThanOrEqual(10);
    expect(store.has('t999')).toBe(true);
    expect(store.has('t0')).toBe(false);
  });

  it('drains what arrives after the store is closed', async () => {
    const store = new AttachmentStore();
    store.close();
    const body = buildBody('b', [
      { headers: { 'Content-ID': '<late>' }, body: Buffer.alloc(1000) },
      { headers: JSON_PART, body: directive('SetMute', { mute: true }) },
    ]);
    const parts = await lastValueFrom(readMultipart(Readable.from([body]), 'b', { store }).pipe(toArray()));
    expect(names(parts)).toEqual(['attachment', 'SetMute']);
    expect(store.size).toBe(0);
  });

  it('reads a 100 MB attachment with flat memory', async () => {
    const store = new AttachmentStore();
    const chunk = randomBytes(64 * 1024);
    const count = 1600; // 100 MiB
    async function* body() {
      yield Buffer.from(`--${B}\r\nContent-ID: <huge>\r\nContent-Type: application/octet-stream\r\n\r\n`);
      for (let i = 0; i < count; i++) yield Buffer.from(chunk); // a fresh buffer each time, as a socket gives
      yield Buffer.from(`\r\n--${B}--\r\n`);
    }
    const before = process.memoryUsage();
    let peakBuffered = 0;
    let peakRss = 0;
    let bytes = 0;
    const done = lastValueFrom(readMultipart(Readable.from(body()), B, { store }).pipe(toArray()));
    const stream = store.open('cid:huge');
    const hash = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
        peakBuffered = Math.max(peakBuffered, stream.readableLength);
        if (bytes % (8 * 1024 * 1024) < c.length) peakRss = Math.max(peakRss, process.memoryUsage().rss);
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    await done;
    expect(bytes).toBe(count * chunk.length);
    // What the reader holds for the consumer stays within its read-ahead (1 MiB) plus a chunk.
    expect(peakBuffered).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
    // The process does not grow by anything near the attachment's size (loose: GC timing varies).
    expect(peakRss - before.rss).toBeLessThan(64 * 1024 * 1024);
  });

  it('skips an unknown part type and goes on (§1.5.1)', async () => {
    const body = buildBody('b', [
      { headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('hello') },
      { headers: JSON_PART, body: directive('SetVolume', { volume: 1 }) },
    ]);
    const parts = await lastValueFrom(readMultipart(Readable.from([body]), 'b').pipe(toArray()));
    expect(parts[0]).toMatchObject({ kind: 'skipped', bytes: 5 });
    expect(names(parts)).toEqual(['skipped', 'SetVolume']);
  });

  it('skips a JSON part over the size limit with a clear error, and goes on', async () => {
    const body = buildBody('b', [
      { headers: JSON_PART, body: Buffer.from(`{"directive":"${'x'.repeat(5000)}"}`) },
      { headers: JSON_PART, body: directive('SetVolume', { volume: 1 }) },
    ]);
    const parts = await lastValueFrom(readMultipart(Readable.from([body]), 'b', { maxJsonPartBytes: 1000 }).pipe(toArray()));
    expect(parts[0].kind === 'skipped' && parts[0].error?.code).toBe('PART_TOO_LARGE');
    expect(names(parts)).toEqual(['skipped', 'SetVolume']);
  });

  it('fails an attachment over the size limit and goes on with the next part', async () => {
    const store = new AttachmentStore();
    const body = buildBody('b', [
      { headers: { 'Content-ID': '<big>' }, body: Buffer.alloc(5000) },
      { headers: JSON_PART, body: directive('SetVolume', { volume: 1 }) },
    ]);
    const parts: AvsPart[] = [];
    const done = lastValueFrom(readMultipart(Readable.from([body]), 'b', { store, maxAttachmentBytes: 1000 }).pipe(toArray()));
    const e = errorOf(store.open('cid:big'));
    parts.push(...(await done));
    expect((await e).code).toBe('ATTACHMENT_TOO_LARGE');
    expect(names(parts)).toEqual(['attachment', 'SetVolume']);
  });

  it('reports a directive that is not JSON, or invalid, as such and goes on', async () => {
    const body = buildBody('b', [
      { headers: JSON_PART, body: Buffer.from('{"directive": {') },
      { headers: JSON_PART, body: directive('SetVolume', { volume: 500 }) },
      { headers: JSON_PART, body: Buffer.from('{"directive":{"header":{"namespace":"Foo","name":"Bar","messageId":"q"},"payload":{}}}') },
      { headers: JSON_PART, body: directive('SetVolume', { volume: 1 }) },
    ]);
    const parts = await lastValueFrom(readMultipart(Readable.from([body]), 'b').pipe(toArray()));
    expect(names(parts)).toEqual(['invalid', 'invalid', 'unsupported', 'SetVolume']);
    expect(parts[0].kind === 'directive' && parts[0].text).toBe('{"directive": {');
  });

  it('reads a bare System.Exception part (§11.3)', async () => {
    const body = buildBody('b', [
      { headers: JSON_PART, body: Buffer.from('{"header":{"namespace":"System","name":"Exception","messageId":"e"},"payload":{"code":"THROTTLING_EXCEPTION"}}') },
    ]);
    const [part] = await lastValueFrom(readMultipart(Readable.from([body]), 'b').pipe(toArray()));
    expect(part.kind === 'exception' && part.result.kind === 'ok' && part.result.value.payload.code).toBe('THROTTLING_EXCEPTION');
  });

  it('decodes leniently when asked, as the runtime does (§16 #6)', async () => {
    const play = '{"directive":{"header":{"namespace":"AudioPlayer","name":"ClearQueue","messageId":"c"},"payload":{}}}';
    const body = buildBody('b', [{ headers: JSON_PART, body: Buffer.from(play) }]);
    const [strict] = await lastValueFrom(readMultipart(Readable.from([body]), 'b').pipe(toArray()));
    const [lenient] = await lastValueFrom(readMultipart(Readable.from([body]), 'b', { lenient: true }).pipe(toArray()));
    expect(strict.kind === 'directive' && strict.result.kind).toBe('invalid');
    expect(lenient.kind === 'directive' && lenient.result.kind).toBe('ok');
  });

  it('errors when the stream fails mid-body, and the attachment consumer learns it', async () => {
    const store = new AttachmentStore();
    const source = new PassThrough();
    const result = lastValueFrom(readMultipart(source, 'b', { store }).pipe(toArray()));
    source.write('--b\r\nContent-ID: <cut>\r\n\r\npartial');
    const e = errorOf(store.open('cid:cut'));
    source.destroy(new Error('RST_STREAM'));
    await expect(result).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await e).code).toBe('ATTACHMENT_INCOMPLETE');
  });

  it('errors with TRUNCATED when the stream ends before the close delimiter', async () => {
    const source = Readable.from([Buffer.from(`--b\r\nContent-Type: application/json\r\n\r\n${directive('SetMute', { mute: true })}\r\n--b\r\n`)]);
    const seen: AvsPart[] = [];
    const error = await new Promise<MultipartError>((resolve) => readMultipart(source, 'b').subscribe({ next: (p) => seen.push(p), error: resolve }));
    expect(error.code).toBe('TRUNCATED');
    expect(names(seen)).toEqual(['SetMute']); // what completed before is not lost
  });

  it('survives a part handler that throws: the error is reported, not thrown into the source', () => {
    const body = buildBody('b', [{ headers: JSON_PART, body: directive('SetMute', { mute: true }) }]);
    const errors: MultipartError[] = [];
    const reader = new AvsPartReader('b', {
      onPart: () => {
        throw new Error('consumer bug');
      },
      onClose: () => {},
      onError: (e) => errors.push(e),
    });
    expect(() => reader.write(body)).not.toThrow();
    expect(errors.map((e) => e.code)).toEqual(['ABORTED']);
    expect(errors[0].message).toMatch(/consumer bug/);
  });
});

// PROTOCOL.md §1.5.1: the multipart framing of AVS responses and of the downchannel.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { boundaryFromContentType, MultipartParser } from '../../../services/multipart';
import { FIXTURES } from '../../support/fixtures';
import { buildBody, parseChunks, splitAt, summary } from '../../support/multipart';

const B = '------abcde123';
const response = readFileSync(join(FIXTURES, 'multipart', 'recognize-response.multipart'));

describe('boundaryFromContentType (§1.5.1)', () => {
  it.each([
    ['multipart/related; boundary=------abcde123; type=application/json', '------abcde123'],
    ['multipart/related; type=application/json; boundary=------abcde123', '------abcde123'],
    ['multipart/related; boundary="------abc de123"; type=application/json', '------abc de123'],
    ['Multipart/Related;BOUNDARY=xyz', 'xyz'],
    ['multipart/form-data; boundary=avs-123', 'avs-123'],
  ])('%s → %s', (ct, b) => expect(boundaryFromContentType(ct)).toBe(b));

  it.each([undefined, '', 'application/json', 'multipart/related; type=application/json', 'multipart/related; boundary=""'])(
    'finds no boundary in %j',
    (ct) => expect(boundaryFromContentType(ct)).toBeUndefined(),
  );
});

describe('MultipartParser', () => {
  it('reads the §14.6 answer: two JSON parts and the MP3 attachment, with its CRLF preamble', () => {
    const r = parseChunks(B, [response]);
    expect(r.error).toBeUndefined();
    expect(r.closed).toBe(true);
    expect(r.parts.map((p) => p.headers)).toEqual([
      { 'content-type': 'application/json; charset=UTF-8' },
      { 'content-type': 'application/json; charset=UTF-8' },
      { 'content-id': '<DeviceTTSRendererV4_4a6b1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d_1934409815>', 'content-type': 'application/octet-stream' },
    ]);
    expect(JSON.parse(r.parts[0].body.toString()).directive.header.name).toBe('Speak');
    expect(r.parts[2].body.length).toBe(4034);
    // the attachment holds "\r\n--\r\n--------abcde12\r\n-": bytes that look like a delimiter pass through
    expect(r.parts[2].body.includes(Buffer.from('\r\n--\r\n--------abcde12\r\n-'))).toBe(true);
  });

  it('gives the same result for every way of cutting the body in two', () => {
    const whole = summary(parseChunks(B, [response]));
    for (let cut = 1; cut < response.length; cut++) {
      expect(summary(parseChunks(B, splitAt(response, [cut])))).toEqual(whole);
    }
  });

  it('gives the same result fed one byte at a time', () => {
    const bytes = [...response].map((b) => Buffer.from([b]));
    expect(summary(parseChunks(B, bytes))).toEqual(summary(parseChunks(B, [response])));
  });

  it('gives the same result for every cut in three of a small body', () => {
    const small = buildBody('b', [
      { headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"a":1}') },
      { headers: { 'Content-ID': '<x>' }, body: Buffer.from('\r\n-\r\n--\r\n--b-\r\r\n') },
    ]);
    const whole = summary(parseChunks('b', [small]));
    expect(whole.parts).toHaveLength(2);
    for (let i = 1; i < small.length; i++) {
      for (let j = i + 1; j < small.length; j++) expect(summary(parseChunks('b', splitAt(small, [i, j])))).toEqual(whole);
    }
  });

  // Bodies whose binary parts are made of CRLFs, dashes and pieces of the delimiter.
  const tricky = (boundary: string) => {
    const delimiter = `\r\n--${boundary}`;
    const pieces = [
      '\r', '\n', '\r\n', '-', '--', '\r\n--',
      ...Array.from({ length: delimiter.length - 1 }, (_, i) => delimiter.slice(0, i + 1)),
      `${delimiter}x`, // a whole delimiter followed by a plain byte is data (Go's reading)
    ];
    // A whole delimiter is only a delimiter line when CRLF, "--" or padding follows it.
    const framingAfter = (b: Buffer) => {
      const d = Buffer.from(delimiter, 'latin1');
      for (let i = b.indexOf(d); i >= 0; i = b.indexOf(d, i + 1)) {
        const next = b[i + d.length];
        if (next === undefined || next === 0x2d || next === 0x20 || next === 0x09 || next === 0x0d) return true;
      }
      return false;
    };
    return fc
      .array(fc.oneof(fc.constantFrom(...pieces), fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a).toString('latin1'))), { maxLength: 30 })
      .map((xs) => Buffer.from(xs.join(''), 'latin1'))
      .filter((b) => !framingAfter(b));
  };

  it('passes CRLF, "--" and partial delimiters inside parts through untouched, however the body is cut', () => {
    const boundary = 'xq7';
    fc.assert(
      fc.property(
        fc.array(tricky(boundary), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (bodies, cutSeeds) => {
          const parts = bodies.map((body, i) => ({ headers: { 'Content-ID': `<p${i}>` }, body }));
          const whole = buildBody(boundary, parts, { preamble: '\r\n' });
          const r = parseChunks(boundary, splitAt(whole, cutSeeds.map((s) => s % (whole.length + 1))));
          expect(r.error).toBeUndefined();
          expect(r.closed).toBe(true);
          expect(r.parts.map((p) => p.body.toString('base64'))).toEqual(bodies.map((b) => b.toString('base64')));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives the same result for random cuts of a large body', () => {
    const big = buildBody(B, [
      { headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"directive":{}}') },
      { headers: { 'Content-ID': '<a>', 'Content-Type': 'application/octet-stream' }, body: Buffer.alloc(300_000, '\r\n--------abcde12-') },
      { headers: { 'Content-ID': '<b>', 'Content-Type': 'application/octet-stream' }, body: Buffer.alloc(200_000, 7) },
    ]);
    const whole = summary(parseChunks(B, [big]));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: big.length - 1 }), { minLength: 1, maxLength: 40 }), (cuts) => {
        expect(summary(parseChunks(B, splitAt(big, cuts)))).toEqual(whole);
      }),
      { numRuns: 50 },
    );
  });

  it('releases a part the moment its delimiter line is complete, with no byte after it (downchannel)', () => {
    const ends: number[] = [];
    let writes = 0;
    const parser = new MultipartParser(B, {
      onPartStart: () => {},
      onPartData: () => {},
      onPartEnd: () => ends.push(writes),
      onClose: () => {},
      onError: (e) => {
        throw e;
      },
    });
    const write = (s: string) => {
      writes++;
      parser.write(Buffer.from(s));
    };
    write(`--${B}\r\nContent-Type: application/json\r\n\r\n{"directive":1}`);
    write(`\r\n--${B}`);
    expect(ends).toEqual([]); // could still be "--" or bad: not yet a complete line
    write('\r\n'); // ...and now the stream goes idle
    expect(ends).toEqual([3]);
    write(`Content-Type: application/json\r\n\r\n{"directive":2}\r\n--${B}\r\n`);
    expect(ends).toEqual([3, 4]);
  });

  it('accepts transport padding after the boundary, a part without headers, and ignores the epilogue', () => {
    const body = Buffer.from(`preamble text\r\n--b \t\r\n\r\nno headers\r\n--b\r\nX-A: 1\r\n\r\nA\r\n--b--\r\nepilogue --b\r\n`);
    const r = parseChunks('b', [body]);
    expect(r.error).toBeUndefined();
    expect(r.parts.map((p) => [p.headers, p.body.toString()])).toEqual([
      [{}, 'no headers'],
      [{ 'x-a': '1' }, 'A'],
    ]);
  });

  it('reads "\\r\\n--boundary" followed by other bytes as data, as Go\'s mime/multipart does', () => {
    const content = `a\r\n--${B}XYZ\r\n--${B}_ end`;
    const body = Buffer.from(`--${B}\r\nContent-ID: <x>\r\n\r\n${content}\r\n--${B}--\r\n`);
    const whole = parseChunks(B, [body]);
    expect(whole.error).toBeUndefined();
    expect(whole.parts[0].body.toString()).toBe(content);
    for (let cut = 1; cut < body.length; cut++) expect(summary(parseChunks(B, splitAt(body, [cut])))).toEqual(summary(whole));
  });

  it('scans header blocks in linear time, however they are cut', () => {
    const header = `X-Long: ${'v'.repeat(15_000)}\r\n`;
    const body = Buffer.from(`--${B}\r\n${header}Content-ID: <x>\r\n\r\nbody\r\n--${B}--`);
    const r = parseChunks(B, [...body].map((b) => Buffer.from([b]))); // 15 KB of headers, byte by byte
    expect(r.error).toBeUndefined();
    expect(r.parts[0].headers['content-id']).toBe('<x>');
  });

  it('keeps the first of a repeated header and trims values', () => {
    const r = parseChunks('b', [Buffer.from('--b\r\nContent-ID:   <x>  \r\ncontent-id: <y>\r\n\r\n1\r\n--b--')]);
    expect(r.parts[0].headers).toEqual({ 'content-id': '<x>' });
  });

  describe('malformed input gives a clear error, never a throw or a hang', () => {
    it.each([
      ['garbage with no delimiter', 'this is not multipart at all', 'NO_DELIMITER'],
      ['an empty body', '', 'NO_DELIMITER'],
      ['a body that ends inside a part', `--${B}\r\nContent-Type: application/json\r\n\r\n{"dire`, 'TRUNCATED'],
      ['a body that ends inside the headers', `--${B}\r\nContent-Ty`, 'TRUNCATED'],
      ['a body with no closing delimiter', `--${B}\r\nContent-Type: application/json\r\n\r\n{}\r\n--${B}\r\n`, 'TRUNCATED'],
      ['a delimiter line with garbage after its padding', `--${B}\r\nContent-Type: application/json\r\n\r\n{}\r\n--${B} xyz\r\n`, 'BAD_DELIMITER'],
      ['a delimiter line with a bare CR', `--${B}\r\nContent-Type: application/json\r\n\r\n{}\r\n--${B}\rx`, 'BAD_DELIMITER'],
      ['a close delimiter cut short', `--${B}\r\nA: b\r\n\r\n{}\r\n--${B}-x`, 'BAD_DELIMITER'],
      ['a header line without a colon', `--${B}\r\nnot a header\r\n\r\n{}\r\n--${B}--`, 'BAD_HEADERS'],
      ['a header name with a space', `--${B}\r\nContent Type: x\r\n\r\n{}\r\n--${B}--`, 'BAD_HEADERS'],
    ])('%s', (_what, text, code) => {
      const r = parseChunks(B, [Buffer.from(text)]);
      expect(r.error?.code).toBe(code);
      expect(r.error?.message).toMatch(/\w/);
    });

    it('gives up on a body with too much preamble without waiting for its end', () => {
      const r = parseChunks(B, [Buffer.alloc(100_000, 'x')], { maxPreambleBytes: 1000 }, false);
      expect(r.error?.code).toBe('NO_DELIMITER');
    });

    it('refuses a header block over the limit', () => {
      const r = parseChunks(B, [Buffer.from(`--${B}\r\nX-Big: ${'y'.repeat(5000)}\r\n\r\n{}\r\n--${B}--`)], { maxHeaderBytes: 1024 }, false);
      expect(r.error?.code).toBe('BAD_HEADERS');
    });

    it('refuses an unusable boundary', () => {
      expect(parseChunks('', [Buffer.from('--\r\n')]).error?.code).toBe('NO_BOUNDARY');
      expect(parseChunks('a\r\nb', [Buffer.from('x')]).error?.code).toBe('NO_BOUNDARY');
    });

    it('never throws on random bytes, cut anywhere', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
          const body = Buffer.concat([Buffer.from(`--b\r\n`), Buffer.from(bytes)]);
          const r = parseChunks('b', splitAt(body, cuts.map((c) => c % (body.length + 1))));
          expect(r.closed || r.error !== undefined).toBe(true);
        }),
        { numRuns: 2000 },
      );
    });
  });
});

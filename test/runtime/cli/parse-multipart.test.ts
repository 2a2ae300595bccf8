import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../../support/fixtures';
import { avs, tempFiles } from '../../support/cli';

const response = join(FIXTURES, 'multipart', 'recognize-response.multipart');
const downchannel = join(FIXTURES, 'multipart', 'downchannel-open.multipart');

const SPEAK = {
  kind: 'directive',
  namespace: 'SpeechSynthesizer',
  name: 'Speak',
  messageId: '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b',
  dialogRequestId: 'c3a1d2f0-5e6b-4a7c-8d9e-0f1a2b3c4d5e',
};

describe('avs parse-multipart', () => {
  it('lists the parts of a response in wire order, the boundary taken from the first delimiter line', async () => {
    const r = await avs('parse-multipart', response);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.join(''))).toEqual({
      parts: [
        SPEAK,
        {
          kind: 'directive',
          namespace: 'SpeechRecognizer',
          name: 'ExpectSpeech',
          messageId: '2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7a8b',
          dialogRequestId: 'c3a1d2f0-5e6b-4a7c-8d9e-0f1a2b3c4d5e',
        },
        {
          kind: 'attachment',
          contentId: 'DeviceTTSRendererV4_4a6b1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d_1934409815',
          bytes: 4034,
          sha256: 'dbe1cff3f3bed52c49f73ce452dbd6714a9278afb069680160759087256243da',
        },
      ],
    });
  });

  it('takes --boundary, even one that starts with dashes', async () => {
    for (const args of [['--boundary', '------abcde123'], ['--boundary=------abcde123']]) {
      const r = await avs('parse-multipart', ...args, response);
      expect(JSON.parse(r.out.join('')).parts).toHaveLength(3);
      expect(r.code).toBe(0);
    }
    expect((await avs('parse-multipart', '--boundary', '--open', response)).code).toBe(2); // --open is not a boundary
  });

  it('finds the first delimiter line after a text preamble', async () => {
    const files = tempFiles({ 'preamble.multipart': Buffer.concat([Buffer.from('This is a preamble.\r\nIgnore it.\r\n'), readFileSync(response)]) });
    const r = await avs('parse-multipart', files.path('preamble.multipart'));
    files.cleanup();
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.join('')).parts).toHaveLength(3);
  });

  it('lists what a never-closing downchannel capture completed, with --open', async () => {
    const r = await avs('parse-multipart', '--open', downchannel);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.join(''))).toEqual({
      parts: [
        { kind: 'directive', namespace: 'Speaker', name: 'SetVolume', messageId: '5c1d-0001', dialogRequestId: null },
        { kind: 'directive', namespace: 'Alerts', name: 'SetAlert', messageId: '5c1d-0002', dialogRequestId: null },
      ],
    });
  });

  describe('bodies that are not whole', () => {
    const body = readFileSync(response);
    const files = tempFiles({
      'cut.multipart': body.subarray(0, 4000), // inside the attachment
      'garbage.multipart': 'hello, this is not multipart\r\n',
      'bad-delimiter.multipart': Buffer.concat([body.subarray(0, 300), Buffer.from('\r\n--------abcde123 XX\r\n')]),
      'odd.multipart': '--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/json\r\n\r\n{"directive":{"header":{"namespace":"Speaker","name":"SetVolume","messageId":"m"},"payload":{"volume":900}}}\r\n--b--\r\n',
    });
    afterAll(files.cleanup);

    it('exits 1 with the reason on an unterminated body', async () => {
      const r = await avs('parse-multipart', files.path('cut.multipart'));
      expect(r.code).toBe(1);
      expect(r.err.join('\n')).toMatch(/cut\.multipart: the body ended inside a part/);
      expect(JSON.parse(r.out.join('')).parts).toEqual([SPEAK, expect.objectContaining({ name: 'ExpectSpeech' })]);
    });

    it('with --open, lists the parts completed before the cut and exits 0', async () => {
      const r = await avs('parse-multipart', '--open', files.path('cut.multipart'));
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out.join('')).parts.map((p: { kind: string }) => p.kind)).toEqual(['directive', 'directive']);
    });

    it('exits 1 on a body with no delimiter line', async () => {
      const r = await avs('parse-multipart', files.path('garbage.multipart'));
      expect(r.code).toBe(1);
      expect(r.err.join('\n')).toMatch(/no multipart delimiter line/);
    });

    it('exits 1 on a malformed delimiter, even with --open', async () => {
      const r = await avs('parse-multipart', '--open', files.path('bad-delimiter.multipart'));
      expect(r.code).toBe(1);
      expect(r.err.join('\n')).toMatch(/delimiter line/);
    });

    it('lists skipped parts and invalid directives with their reason', async () => {
      const r = await avs('parse-multipart', files.path('odd.multipart'));
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out.join('')).parts).toEqual([
        { kind: 'skipped', contentType: 'text/plain', bytes: 2 },
        {
          kind: 'directive',
          namespace: 'Speaker',
          name: 'SetVolume',
          messageId: 'm',
          dialogRequestId: null,
          error: '$.directive.payload.volume: expected integer 0..100, got 900',
        },
      ]);
    });
  });

  it('exits 2 on bad usage or an unreadable file', async () => {
    const none = await avs('parse-multipart');
    expect(none.code).toBe(2);
    expect(none.err).toEqual(['avs parse-multipart: give exactly one FILE (see avs parse-multipart --help)']);
    expect((await avs('parse-multipart', 'a', 'b')).code).toBe(2);
    expect((await avs('parse-multipart', '--boundary')).code).toBe(2);
    const missing = await avs('parse-multipart', '/nonexistent/body');
    expect(missing.code).toBe(2);
    expect(missing.err.join('\n')).toMatch(/cannot read: ENOENT/);
    expect((await avs('parse-multipart', FIXTURES)).code).toBe(2);
    expect((await avs('parse-multipart', '--help')).out.join('\n')).toMatch(/^usage: avs parse-multipart/);
  });
});

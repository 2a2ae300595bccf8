// PROTOCOL.md §1.4: the event request body.
import { PassThrough } from 'node:stream';
import * as Multipasta from 'multipasta';
import { createEventBody, newBoundary } from '../../../services/multipart';
import { parseChunks } from '../../support/multipart';

const metadata = { event: { header: { namespace: 'System', name: 'SynchronizeState', messageId: 'm-1' }, payload: {} } };

const collect = async (body: NodeJS.ReadableStream): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

describe('createEventBody', () => {
  it('writes the metadata part and the closing delimiter, byte for byte as §1.4 shows', async () => {
    const { body, contentType, boundary } = createEventBody(metadata, undefined, 'BOUNDARY');
    expect(contentType).toBe('multipart/form-data; boundary=BOUNDARY');
    expect(boundary).toBe('BOUNDARY');
    expect((await collect(body)).toString()).toBe(
      '--BOUNDARY\r\n' +
        'Content-Disposition: form-data; name="metadata"\r\n' +
        'Content-Type: application/json; charset=UTF-8\r\n' +
        '\r\n' +
        `${JSON.stringify(metadata)}\r\n` +
        '--BOUNDARY--\r\n',
    );
  });

  it('adds the audio part, which a standard multipart parser (multipasta) reads back exactly', async () => {
    const audio = Buffer.from(Array.from({ length: 3200 }, (_, i) => (i * 7) % 256));
    const { body, contentType } = createEventBody(metadata, (async function* () {
      for (let i = 0; i < audio.length; i += 320) yield audio.subarray(i, i + 320); // 10 ms frames
    })());
    const bytes = await collect(body);
    const fields: Record<string, string> = {};
    const files: Record<string, Buffer[]> = {};
    let done = false;
    const parser = Multipasta.make({
      headers: { 'content-type': contentType },
      onField: (info, value) => (fields[info.name] = Multipasta.decodeField(info, value)),
      onFile: (info) => {
        files[info.name] = [];
        return (chunk) => {
          if (chunk) files[info.name].push(Buffer.from(chunk));
        };
      },
      onError: (e) => {
        throw new Error(e._tag);
      },
      onDone: () => (done = true),
    });
    parser.write(bytes);
    parser.end();
    expect(done).toBe(true);
    expect(JSON.parse(fields.metadata)).toEqual(metadata);
    expect(Buffer.concat(files.audio)).toEqual(audio);
    // and our own reader agrees
    const ours = parseChunks(contentType.split('boundary=')[1], [bytes]);
    expect(ours.parts.map((p) => p.headers['content-disposition'])).toEqual(['form-data; name="metadata"', 'form-data; name="audio"']);
    expect(ours.parts[1].headers['content-type']).toBe('application/octet-stream');
    expect(ours.parts[1].body).toEqual(audio);
  });

  it('puts each audio chunk on the wire as it is captured, before the capture ends', async () => {
    const mic = new PassThrough();
    const { body } = createEventBody(metadata, mic);
    const seen: Buffer[] = [];
    body.on('data', (c: Buffer) => seen.push(c));
    const nextChunk = () => new Promise<Buffer>((resolve) => body.once('data', resolve));
    await nextChunk(); // metadata and the audio part's headers
    const frame = Buffer.alloc(320, 0x11);
    const arrived = nextChunk();
    mic.write(frame);
    expect(await arrived).toEqual(frame); // while the microphone is still open
    mic.end();
    await new Promise((r) => body.once('end', r));
    expect(Buffer.concat(seen).toString('latin1')).toMatch(/\r\n--avs-[\w-]+--\r\n$/);
  });

  it('uses a fresh random boundary for every request', () => {
    const seen = new Set(Array.from({ length: 100 }, () => newBoundary()));
    expect(seen.size).toBe(100);
    expect(createEventBody(metadata).boundary).not.toBe(createEventBody(metadata).boundary);
    for (const b of seen) expect(b).toMatch(/^avs-[A-Za-z0-9_-]{24}$/);
  });
});

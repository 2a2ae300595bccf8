// The body of an event request (PROTOCOL.md §1.4): `multipart/form-data` with the `metadata`
// JSON part and, for Recognize, an `audio` part written as the audio is captured.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export interface EventBody {
  /** The value of the request's content-type header. */
  readonly contentType: string;
  readonly boundary: string;
  /** The body; the audio part's bytes pass through as the audio source produces them. */
  readonly body: Readable;
}

/** §1.3: a boundary of our own per request, random, so it cannot occur in the audio. */
export const newBoundary = (): string => `avs-${randomBytes(18).toString('base64url')}`;

/**
 * Builds an event body. `metadata` is the §2.1 document (or its JSON text); `audio`, when given,
 * is streamed chunk by chunk — nothing is buffered beyond what the consumer has not read yet.
 */
export function createEventBody(metadata: object | string, audio?: AsyncIterable<Buffer | Uint8Array>, boundary = newBoundary()): EventBody {
  const json = typeof metadata === 'string' ? metadata : JSON.stringify(metadata);
  const head = Buffer.from(
    `--${boundary}\r\n` +
      'Content-Disposition: form-data; name="metadata"\r\n' +
      'Content-Type: application/json; charset=UTF-8\r\n\r\n' +
      `${json}\r\n`,
    'utf8',
  );
  const close = Buffer.from(`--${boundary}--\r\n`, 'latin1');
  async function* parts(): AsyncGenerator<Buffer> {
    if (!audio) {
      yield Buffer.concat([head, close]);
      return;
    }
    yield Buffer.concat([
      head,
      Buffer.from(
        `--${boundary}\r\n` + 'Content-Disposition: form-data; name="audio"\r\n' + 'Content-Type: application/octet-stream\r\n\r\n',
        'latin1',
      ),
    ]);
    for await (const chunk of audio) {
      if (chunk.length > 0) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    yield Buffer.concat([Buffer.from('\r\n'), close]);
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, boundary, body: Readable.from(parts(), { objectMode: false }) };
}

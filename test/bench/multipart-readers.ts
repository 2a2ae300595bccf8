// Figure group 2 (runs in its own process): how fast multipart bodies are read. One
// multipart/related body framed as AVS frames it (test/avs-cloud/multipart-body: one JSON
// directive part, then many binary parts with Content-IDs), fed in 16 KB chunks to:
//   ours      — readMultipart (services/multipart), as the transport uses it: a Readable in,
//               parts out, the directive decoded, every attachment opened and read as a stream;
//   parser    — our MultipartParser alone (synchronous callbacks, no streams);
//   dicer     — dicer 0.3.1 (a Writable in, a Readable per part), as a reference;
//   indexOf   — a plain Buffer.indexOf splitter (below), as a reference.
// Each round runs all four on the same chunks, in a rotating order, after a warm-up round.
import { randomFillSync } from 'node:crypto';
import { Readable } from 'node:stream';
import Dicer from 'dicer';
import { AttachmentStore, MultipartParser, readMultipart } from '../../services/multipart';
import { AVS_BOUNDARY, responseBody, type ResponsePart } from '../avs-cloud/multipart-body';

export const READERS = ['ours', 'parser', 'dicer', 'indexOf'] as const;
export type ReaderName = (typeof READERS)[number];

export interface MultipartTask {
  /** Body size in bytes (about; binary parts of `partBytes` each). */
  readonly bodyBytes: number;
  readonly partBytes: number;
  readonly chunkBytes: number;
  /** Measured rounds, after one warm-up round. */
  readonly rounds: number;
}

export interface MultipartResult {
  readonly bodyBytes: number;
  readonly binaryParts: number;
  readonly chunks: number;
  /** MB/s (10^6 bytes per second) of each reader, per round. */
  readonly mbPerS: Readonly<Record<ReaderName, number[]>>;
}

/** What a reader saw: it must be the whole body, or its speed means nothing. */
interface Count {
  json: number;
  binary: number;
  binaryBytes: number;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const DASH = 45;
const CR = 13;

/** Feeds the chunks as a byte stream, as much as the consumer takes (one 16 KB chunk per push). */
function source(chunks: readonly Buffer[]): Readable {
  let i = 0;
  return new Readable({
    read() {
      while (i < chunks.length) {
        if (!this.push(chunks[i++])) return;
      }
      this.push(null);
    },
  });
}

function ours(chunks: readonly Buffer[], boundary: string): Promise<Count> {
  return new Promise<Count>((resolve, reject) => {
    const count: Count = { json: 0, binary: 0, binaryBytes: 0 };
    const store = new AttachmentStore();
    let open = 0;
    let complete = false;
    const maybeDone = () => {
      if (complete && open === 0) resolve(count);
    };
    readMultipart(source(chunks), boundary, { store, lenient: true }).subscribe({
      next: (part) => {
        if (part.kind === 'directive') count.json++;
        if (part.kind !== 'attachment') return;
        count.binary++;
        open++;
        const stream = part.open();
        stream.on('data', (c: Buffer) => (count.binaryBytes += c.length));
        stream.on('end', () => {
          open--;
          maybeDone();
        });
        stream.on('error', reject);
      },
      error: reject,
      complete: () => {
        complete = true;
        maybeDone();
      },
    });
  });
}

function parser(chunks: readonly Buffer[], boundary: string): Promise<Count> {
  const count: Count = { json: 0, binary: 0, binaryBytes: 0 };
  let binary = false;
  let failed: Error | undefined;
  const p = new MultipartParser(boundary, {
    onPartStart: (h) => {
      binary = !/application\/json/i.test(h['content-type'] ?? '');
      if (binary) count.binary++;
      else count.json++;
    },
    onPartData: (c) => {
      if (binary) count.binaryBytes += c.length;
    },
    onPartEnd: () => undefined,
    onClose: () => undefined,
    onError: (e) => (failed = e),
  });
  for (const c of chunks) p.write(c);
  p.end();
  return failed ? Promise.reject(failed) : Promise.resolve(count);
}

function dicer(chunks: readonly Buffer[], boundary: string): Promise<Count> {
  return new Promise<Count>((resolve, reject) => {
    const count: Count = { json: 0, binary: 0, binaryBytes: 0 };
    const d = new Dicer({ boundary });
    let open = 0;
    let finished = false;
    const maybeDone = () => {
      if (finished && open === 0) resolve(count);
    };
    d.on('part', (part) => {
      open++;
      let binary = false;
      part.on('header', (h) => {
        binary = !/application\/json/i.test(h['content-type']?.[0] ?? '');
        if (binary) count.binary++;
        else count.json++;
      });
      part.on('data', (c: Buffer) => {
        if (binary) count.binaryBytes += c.length;
      });
      part.on('end', () => {
        open--;
        maybeDone();
      });
      part.on('error', reject);
    });
    d.on('finish', () => {
      finished = true;
      maybeDone();
    });
    d.on('error', reject);
    source(chunks).pipe(d);
  });
}

/**
 * The plain splitter: find `CRLF--boundary` with Buffer.indexOf; between a delimiter line and
 * the blank line are headers; what lies between is a body. Only a tail that could begin a
 * delimiter is carried over to the next chunk. No header parsing beyond the content type, no
 * limits, no streams: what any reader must at least do.
 */
function indexOf(chunks: readonly Buffer[], boundary: string): Promise<Count> {
  const count: Count = { json: 0, binary: 0, binaryBytes: 0 };
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let state: 'preamble' | 'headers' | 'body' | 'done' = 'preamble';
  let binary = false;
  let carry: Buffer = Buffer.from('\r\n'); // the first delimiter line may open the body
  const body = (from: number, to: number) => {
    if (state === 'body' && binary) count.binaryBytes += to - from;
  };
  for (const chunk of chunks) {
    if (state === 'done') break;
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    carry = Buffer.alloc(0);
    let pos = 0;
    while (pos < buf.length && state !== 'done') {
      if (state === 'headers') {
        const end = buf.indexOf(CRLF_CRLF, pos);
        if (end < 0) break;
        binary = !/content-type:\s*application\/json/i.test(buf.toString('latin1', pos, end));
        if (binary) count.binary++;
        else count.json++;
        state = 'body';
        pos = end + 4;
        continue;
      }
      const at = buf.indexOf(delimiter, pos);
      if (at < 0) {
        // Keep back only a suffix that could be the start of a delimiter (it starts with CR).
        let keep = 0;
        for (let i = Math.max(pos, buf.length - delimiter.length + 1); i < buf.length; i++) {
          if (buf[i] === CR && buf.compare(delimiter, 0, buf.length - i, i, buf.length) === 0) {
            keep = buf.length - i;
            break;
          }
        }
        body(pos, buf.length - keep);
        pos = buf.length - keep;
        break;
      }
      if (at + delimiter.length + 2 > buf.length) {
        body(pos, at);
        pos = at;
        break;
      }
      body(pos, at);
      const after = at + delimiter.length;
      if (buf[after] === DASH && buf[after + 1] === DASH) state = 'done';
      else {
        state = 'headers';
        pos = buf.indexOf('\n', after) + 1;
      }
    }
    if (pos < buf.length && state !== 'done') carry = Buffer.from(buf.subarray(pos));
  }
  return state === 'done' ? Promise.resolve(count) : Promise.reject(new Error('indexOf: the body did not end'));
}

const READ: Record<ReaderName, (chunks: readonly Buffer[], boundary: string) => Promise<Count>> = { ours, parser, dicer, indexOf };

/** The body: one Speak directive, then binary parts of random bytes (as MP3 data looks to a parser). */
export function buildBody(task: Pick<MultipartTask, 'bodyBytes' | 'partBytes'>): { body: Buffer; binaryParts: number } {
  const binaryParts = Math.max(1, Math.round(task.bodyBytes / task.partBytes));
  const parts: ResponsePart[] = [
    {
      kind: 'json',
      body: {
        directive: {
          header: { namespace: 'SpeechSynthesizer', name: 'Speak', messageId: 'bench-speak', dialogRequestId: 'bench-dialog' },
          payload: { url: 'cid:bench-0', format: 'AUDIO_MPEG', token: 'bench-token' },
        },
      },
    },
  ];
  for (let i = 0; i < binaryParts; i++) parts.push({ kind: 'attachment', contentId: `bench-${i}`, data: randomFillSync(Buffer.allocUnsafe(task.partBytes)) });
  return { body: responseBody(parts), binaryParts };
}

const collect = () => (globalThis as { gc?: () => void }).gc?.();

export async function runMultipartBench(task: MultipartTask): Promise<MultipartResult> {
  const { body, binaryParts } = buildBody(task);
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += task.chunkBytes) chunks.push(body.subarray(i, i + task.chunkBytes));
  const expected = binaryParts * task.partBytes;
  const mbPerS = Object.fromEntries(READERS.map((r) => [r, [] as number[]])) as Record<ReaderName, number[]>;
  for (let round = 0; round <= task.rounds; round++) {
    for (let k = 0; k < READERS.length; k++) {
      const name = READERS[(k + round) % READERS.length];
      collect();
      const t0 = process.hrtime.bigint();
      const count = await READ[name](chunks, AVS_BOUNDARY);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (count.json !== 1 || count.binary !== binaryParts || count.binaryBytes !== expected) {
        throw new Error(`${name} read the body wrong: ${JSON.stringify(count)}, expected 1 JSON part and ${binaryParts} binary parts of ${expected} bytes`);
      }
      if (round > 0) mbPerS[name].push(body.length / 1e6 / seconds);
    }
  }
  return { bodyBytes: body.length, binaryParts, chunks: chunks.length, mbPerS };
}

// Helpers for building multipart bodies and collecting what the parser makes of them.
import { MultipartParser, type MultipartError, type ParserLimits, type PartHeaders } from '../../services/multipart';

export interface BodyPart {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** A multipart body with CRLF framing, an optional preamble and a close delimiter. */
export function buildBody(boundary: string, parts: readonly BodyPart[], options: { preamble?: string; close?: boolean } = {}): Buffer {
  const out: Buffer[] = [Buffer.from(options.preamble ?? '')];
  parts.forEach((p, i) => {
    const head = Object.entries(p.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    out.push(Buffer.from(`${i === 0 ? '' : '\r\n'}--${boundary}\r\n${head}\r\n`, 'latin1'), p.body);
  });
  if (options.close !== false) out.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'));
  return Buffer.concat(out);
}

export interface Parsed {
  parts: { headers: PartHeaders; body: Buffer; ended: boolean }[];
  closed: boolean;
  error?: MultipartError;
}

/** Feeds `chunks` to a fresh parser and collects parts (bodies joined). */
export function parseChunks(boundary: string, chunks: readonly Buffer[], limits?: ParserLimits, end = true): Parsed {
  const result: Parsed = { parts: [], closed: false };
  let bodies: Buffer[] = [];
  const parser = new MultipartParser(
    boundary,
    {
      onPartStart: (headers) => {
        bodies = [];
        result.parts.push({ headers, body: Buffer.alloc(0), ended: false });
      },
      onPartData: (c) => bodies.push(Buffer.from(c)),
      onPartEnd: () => {
        const last = result.parts[result.parts.length - 1];
        last.body = Buffer.concat(bodies);
        last.ended = true;
      },
      onClose: () => {
        result.closed = true;
      },
      onError: (e) => {
        result.error = e;
      },
    },
    limits,
  );
  for (const c of chunks) parser.write(c);
  if (end) parser.end();
  return result;
}

/** `body` cut at the given offsets. */
export function splitAt(body: Buffer, cuts: readonly number[]): Buffer[] {
  const sorted = [...new Set(cuts)].filter((c) => c > 0 && c < body.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of sorted) {
    out.push(body.subarray(from, c));
    from = c;
  }
  out.push(body.subarray(from));
  return out;
}

/** A comparable summary: headers and a hex digest-free view of the bodies. */
export const summary = (p: Parsed) => ({
  parts: p.parts.map((x) => ({ headers: x.headers, body: x.body.toString('base64'), ended: x.ended })),
  closed: p.closed,
  error: p.error?.code,
});

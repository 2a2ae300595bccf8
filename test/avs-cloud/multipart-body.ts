// The bodies AVS answers with (PROTOCOL.md §1.5.1): `multipart/related` with JSON directive parts
// and binary attachments, framed exactly as AVS frames them — the fixed boundary, the unquoted
// `type=` parameter, a CRLF preamble, and every part followed at once by the next delimiter line,
// so a streaming client sees each part complete without waiting for more bytes.

/** §1.5.1: the boundary in every AVS capture (clients must parse it, never assume it). */
export const AVS_BOUNDARY = '------abcde123';
/** §1.5.1: the header exactly as AVS spells it, `type` unquoted. */
export const AVS_CONTENT_TYPE = `multipart/related; boundary=${AVS_BOUNDARY}; type=application/json`;

export type ResponsePart =
  /** A directive document `{"directive":…}` (an object), or raw text sent as is (malformed on purpose). */
  | { readonly kind: 'json'; readonly body: object | string }
  /** §1.5.1: a binary part with a Content-ID (without brackets; they are added). */
  | { readonly kind: 'attachment'; readonly contentId: string; readonly data: Buffer };

const DELIMITER = Buffer.from(`\r\n--${AVS_BOUNDARY}\r\n`, 'latin1');
const CLOSE = Buffer.from(`\r\n--${AVS_BOUNDARY}--\r\n`, 'latin1');
/** The part-ending delimiter line broken on purpose: `--` + boundary followed by neither CRLF nor `--`. */
const BROKEN_DELIMITER = Buffer.from(`\r\n--${AVS_BOUNDARY}-corrupt\r\n`, 'latin1');

/** How to spoil a body (faults, §1.5.1 parsing rules under test). */
export type Corruption = 'framing' | 'json';

/** The CRLF preamble and the first delimiter line: what opens a body or a downchannel. */
export const OPENING = Buffer.concat([Buffer.from('\r\n'), DELIMITER.subarray(2)]);

/** One part: its headers, a blank line and its bytes (no delimiter). */
export function partBytes(part: ResponsePart, corruption?: Corruption): Buffer {
  if (part.kind === 'attachment') {
    return Buffer.concat([
      Buffer.from(`Content-ID: <${part.contentId}>\r\nContent-Type: application/octet-stream\r\n\r\n`, 'latin1'),
      part.data,
    ]);
  }
  let text = typeof part.body === 'string' ? part.body : JSON.stringify(part.body);
  // Cut the JSON in half: the part frames fine but its text is no longer JSON (§2.2).
  if (corruption === 'json') text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  return Buffer.concat([Buffer.from('Content-Type: application/json; charset=UTF-8\r\n\r\n', 'latin1'), Buffer.from(text, 'utf8')]);
}

/**
 * Parts for an open stream (the downchannel): each part followed by the next delimiter line,
 * never the close delimiter. With a corruption, the first part is spoiled.
 */
export function streamParts(parts: readonly ResponsePart[], corruption?: Corruption): Buffer {
  return Buffer.concat(
    parts.flatMap((p, i) => {
      const spoil = i === 0 ? corruption : undefined;
      return [partBytes(p, spoil), spoil === 'framing' ? BROKEN_DELIMITER : DELIMITER];
    }),
  );
}

/** A complete `multipart/related` body (an answer to an event); zero parts is legal (§1.5.1). */
export function responseBody(parts: readonly ResponsePart[], corruption?: Corruption): Buffer {
  if (parts.length === 0) return Buffer.concat([Buffer.from('\r\n'), CLOSE.subarray(2)]);
  const body = streamParts(parts, corruption);
  // The last delimiter line becomes the close delimiter (unless the framing fault broke it).
  const lastIsBroken = corruption === 'framing' && parts.length === 1;
  return Buffer.concat([OPENING, lastIsBroken ? body : body.subarray(0, body.length - DELIMITER.length), lastIsBroken ? Buffer.alloc(0) : CLOSE]);
}

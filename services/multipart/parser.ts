// A streaming multipart parser for AVS bodies (PROTOCOL.md §1.5.1), push-style and synchronous:
// `write(chunk)` delivers every part boundary, header block and body byte it can as it goes.
//
// Why not multipasta's own `make`: it emits a part only once bytes *after* the delimiter line
// have arrived. On the downchannel AVS sends a directive and its delimiter and may then stay
// silent for minutes, so that directive would be held back. Here a part ends the moment its
// closing delimiter line (`\r\n--boundary` + `\r\n` or `--`) is complete. Part headers are parsed
// by multipasta's HeadersParser, once the whole header block is in hand, so the result does not
// depend on where the chunks were split.
import * as HeadersParser from 'multipasta/HeadersParser';

export type MultipartErrorCode =
  | 'NO_BOUNDARY' // no boundary parameter, or an unusable one
  | 'NO_DELIMITER' // the body never had a delimiter line (garbage, or too much preamble)
  | 'BAD_DELIMITER' // a delimiter with padding or `-` but no proper line end (`--b -x`, `--b-x`)
  | 'BAD_HEADERS' // a part's header block is malformed or too large
  | 'PART_TOO_LARGE' // a part over its size limit (reported by the reader, per part)
  | 'TRUNCATED' // the input ended inside a part or before the closing delimiter
  | 'ABORTED'; // the source failed or was destroyed

/** Something wrong with the multipart framing or a part; `code` says what. */
export class MultipartError extends Error {
  constructor(
    readonly code: MultipartErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MultipartError';
    // Format the stack now: until then V8 keeps the frames' closures (and what they hold, such
    // as buffered attachment bytes) alive for as long as the error lives.
    void this.stack;
  }
}

/** Part headers, names lower-cased, values trimmed; a repeated header keeps its first value. */
export type PartHeaders = Readonly<Record<string, string>>;

export interface ParserHandlers {
  /** A part's headers are complete; its body bytes follow. */
  onPartStart(headers: PartHeaders): void;
  /** Body bytes of the current part (a view into the input chunk: copy it to keep it). */
  onPartData(chunk: Buffer): void;
  /** The current part's closing delimiter line has arrived. */
  onPartEnd(): void;
  /** The close delimiter `--boundary--` was read; whatever follows is epilogue. */
  onClose(): void;
  /** A framing error; the parser stops. */
  onError(error: MultipartError): void;
}

export interface ParserLimits {
  /** Largest header block of one part. */
  readonly maxHeaderBytes?: number;
  /** Most preamble (bytes before the first delimiter) tolerated. */
  readonly maxPreambleBytes?: number;
}

enum State {
  Preamble,
  DelimiterTail,
  Headers,
  Body,
  Epilogue,
  Failed,
}

const CR = 13;
const LF = 10;
const DASH = 45;
const SPACE = 32;
const TAB = 9;
const CRLF_CRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/** RFC 2046: 1–70 characters; we also refuse CR/LF, which would break the framing. */
export function isValidBoundary(boundary: string): boolean {
  return boundary.length >= 1 && boundary.length <= 200 && !/[\r\n]/.test(boundary);
}

/**
 * The boundary parameter of a Content-Type such as
 * `multipart/related; boundary=------abcde123; type=application/json` (§1.5.1: parameters in any
 * order, boundary quoted or not, `type=` unquoted).
 */
export function boundaryFromContentType(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const m = /(?:^|;)\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(contentType);
  if (!m) return undefined;
  const b = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
  return b && isValidBoundary(b) ? b : undefined;
}

export class MultipartParser {
  private state = State.Preamble;
  private scanState = State.Preamble; // Preamble or Body: where a delimiter match was found
  private readonly needle: Buffer; // CRLF "--" boundary
  private carry: Buffer | undefined; // held-back bytes that may start a delimiter
  private headerBytes: Buffer[] = [];
  private headerTail: Buffer = EMPTY; // the last bytes of headerBytes, up to three
  private headerSize = 0;
  private tail = Buffer.alloc(0); // bytes of the delimiter line after the boundary
  private preambleSize = 0;
  private readonly maxHeaderBytes: number;
  private readonly maxPreambleBytes: number;
  private inPart = false;

  constructor(
    readonly boundary: string,
    private readonly handlers: ParserHandlers,
    limits: ParserLimits = {},
  ) {
    this.maxHeaderBytes = limits.maxHeaderBytes ?? 16 * 1024;
    this.maxPreambleBytes = limits.maxPreambleBytes ?? 64 * 1024;
    this.needle = Buffer.from(`\r\n--${boundary}`, 'latin1');
    // The first delimiter may open the body without a CRLF before it: pretend there was one.
    this.carry = Buffer.from('\r\n');
    if (!isValidBoundary(boundary)) this.fail('NO_BOUNDARY', `unusable multipart boundary ${JSON.stringify(boundary)}`);
  }

  /** True once the close delimiter was read. */
  get closed(): boolean {
    return this.state === State.Epilogue;
  }

  get failed(): boolean {
    return this.state === State.Failed;
  }

  write(chunk: Buffer): void {
    if (this.state === State.Failed || this.state === State.Epilogue || chunk.length === 0) return;
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case State.Preamble:
        case State.Body:
          pos = this.scanBody(buf, pos);
          break;
        case State.DelimiterTail:
          pos = this.readDelimiterTail(buf, pos);
          break;
        case State.Headers:
          pos = this.readHeaders(buf, pos);
          break;
        default:
          return; // Epilogue or Failed: the rest is ignored.
      }
    }
  }

  /** The input has ended. Anything but a completed body is reported as TRUNCATED. */
  end(): void {
    switch (this.state) {
      case State.Epilogue:
      case State.Failed:
        return;
      case State.Preamble:
        return this.fail('NO_DELIMITER', 'the body ended without any multipart delimiter line');
      default:
        return this.fail('TRUNCATED', this.inPart ? 'the body ended inside a part' : 'the body ended before its closing delimiter');
    }
  }

  private fail(code: MultipartErrorCode, message: string): void {
    this.state = State.Failed;
    this.carry = undefined;
    this.headerBytes = [];
    this.handlers.onError(new MultipartError(code, message));
  }

  /** Scans body (or preamble) bytes for the delimiter; returns the new position. */
  private scanBody(buf: Buffer, pos: number): number {
    const needle = this.needle;
    const at = buf.indexOf(needle, pos);
    if (at >= 0) {
      this.emitBody(buf, pos, at);
      if (this.state === State.Failed) return buf.length;
      this.tail = EMPTY;
      this.scanState = this.state;
      this.state = State.DelimiterTail;
      return at + needle.length;
    }
    // No delimiter here: hold back the longest tail that could be the start of one.
    const keep = partialMatchLength(buf, pos, needle);
    this.emitBody(buf, pos, buf.length - keep);
    if (keep > 0 && this.state !== State.Failed) this.carry = Buffer.from(buf.subarray(buf.length - keep));
    return buf.length;
  }

  private emitBody(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (this.state === State.Preamble) {
      this.preambleSize += to - from;
      if (this.preambleSize > this.maxPreambleBytes) {
        this.fail('NO_DELIMITER', `no multipart delimiter line in the first ${this.maxPreambleBytes} bytes`);
      }
      return;
    }
    this.handlers.onPartData(buf.subarray(from, to));
  }

  /** After `\r\n--boundary`: `--` closes the body; optional blanks then CRLF start a part. */
  private readDelimiterTail(buf: Buffer, pos: number): number {
    let tail = this.tail;
    let i = pos;
    for (; i < buf.length; i++) {
      const b = buf[i];
      const n = tail.length;
      if (n === 0 && b !== DASH && b !== SPACE && b !== TAB && b !== CR) {
        // Not a delimiter line after all: RFC 2046 forbids "\r\n--boundary" inside a part, but
        // like Go's mime/multipart we read it followed by anything else as data instead of
        // failing the whole body (on the downchannel that would cost the connection).
        this.state = this.scanState;
        const bytes = Buffer.from(this.needle);
        this.emitBody(bytes, 0, bytes.length);
        return i;
      }
      if (n === 0 && b === DASH) {
        tail = Buffer.from([DASH]);
        continue;
      }
      if (n === 1 && tail[0] === DASH) {
        if (b !== DASH) return this.badDelimiter(buf.length);
        this.endPart();
        this.state = State.Epilogue;
        this.handlers.onClose();
        return buf.length;
      }
      if (b === SPACE || b === TAB) {
        // RFC 2046 transport padding; bounded so a stream of blanks cannot grow it forever.
        if (n > 256) return this.badDelimiter(buf.length);
        tail = Buffer.concat([tail, buf.subarray(i, i + 1)]);
        continue;
      }
      if (b === CR && (n === 0 || tail[n - 1] !== CR)) {
        tail = Buffer.concat([tail, buf.subarray(i, i + 1)]);
        continue;
      }
      if (b === LF && n > 0 && tail[n - 1] === CR) {
        // The delimiter line is complete: the previous part ends right now.
        this.endPart();
        this.state = State.Headers;
        this.headerBytes = [];
        this.headerTail = EMPTY;
        this.headerSize = 0;
        this.tail = EMPTY;
        return i + 1;
      }
      return this.badDelimiter(buf.length);
    }
    this.tail = tail;
    return i;
  }

  private badDelimiter(end: number): number {
    this.fail('BAD_DELIMITER', 'a delimiter line ends in something other than CRLF or "--"');
    return end;
  }

  private endPart(): void {
    if (this.inPart) {
      this.inPart = false;
      this.handlers.onPartEnd();
    }
  }

  /** Collects a part's header block up to the blank line, then parses it whole. */
  private readHeaders(buf: Buffer, pos: number): number {
    // A part with no headers starts right away with the blank line.
    if (this.headerSize === 0 && buf.length - pos >= 2 && buf[pos] === CR && buf[pos + 1] === LF) {
      return this.startPart({}, pos + 2);
    }
    if (this.headerSize === 0 && buf.length - pos === 1 && buf[pos] === CR) {
      this.carry = Buffer.from(buf.subarray(pos));
      return buf.length;
    }
    // Look for CRLF CRLF, including across the bytes collected so far.
    const prev = this.headerTail;
    const lookBack = prev.length;
    const window = lookBack > 0 ? Buffer.concat([prev, buf.subarray(pos, pos + 4)]) : buf.subarray(pos);
    let at = window.indexOf(CRLF_CRLF);
    if (at < 0 && lookBack > 0) {
      const inBuf = buf.indexOf(CRLF_CRLF, pos);
      at = inBuf < 0 ? -1 : inBuf - pos + lookBack;
    }
    const endInBuf = at >= 0 ? pos + at + 4 - lookBack : -1;
    const take = endInBuf >= 0 ? endInBuf - pos : buf.length - pos;
    if (this.headerSize + take > this.maxHeaderBytes) {
      this.fail('BAD_HEADERS', `a part's headers are larger than ${this.maxHeaderBytes} bytes`);
      return buf.length;
    }
    const taken = Buffer.from(buf.subarray(pos, pos + take));
    this.headerBytes.push(taken);
    this.headerSize += take;
    if (endInBuf < 0) {
      // Keep the last three bytes aside: the blank line may straddle this chunk and the next.
      this.headerTail = Buffer.concat([this.headerTail, taken]).subarray(-3);
      return buf.length;
    }
    this.headerTail = EMPTY;

    const block = Buffer.concat(this.headerBytes);
    this.headerBytes = [];
    const parsed = HeadersParser.make()(block, 0);
    if (parsed._tag !== 'Headers') {
      this.fail('BAD_HEADERS', `malformed part headers (${parsed._tag === 'Failure' ? parsed.reason : 'incomplete'})`);
      return buf.length;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(parsed.headers)) {
      headers[name] = (Array.isArray(value) ? value[0] : value).trim();
    }
    return this.startPart(headers, endInBuf);
  }

  private startPart(headers: PartHeaders, pos: number): number {
    this.state = State.Body;
    this.inPart = true;
    this.headerSize = 0;
    this.handlers.onPartStart(headers);
    return pos;
  }
}

/**
 * The length of the longest suffix of buf[from..] that is a proper prefix of `needle` (a
 * delimiter that may be completed by the next chunk). Every prefix of the needle starts with CR,
 * so only the CRs near the end are candidates.
 */
function partialMatchLength(buf: Buffer, from: number, needle: Buffer): number {
  const start = Math.max(from, buf.length - needle.length + 1);
  for (let i = buf.indexOf(CR, start); i >= 0 && i < buf.length; i = buf.indexOf(CR, i + 1)) {
    const len = buf.length - i;
    if (buf.compare(needle, 0, len, i, buf.length) === 0) return len;
  }
  return 0;
}

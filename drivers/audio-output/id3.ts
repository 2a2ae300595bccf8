// ID3v2 tags at the start of an MP3 stream (v2.2, v2.3, v2.4), read as the bytes arrive, for
// PROTOCOL.md §8.6 StreamMetadataExtracted: the text frames only. Binary frames (APIC, GEOB, PRIV,
// …) are skipped without being held, so a tag with a large picture costs no memory; a text frame is
// held until it is whole. Compressed or encrypted frames are skipped too (rare, and the protocol
// calls the metadata optional).
import type { StreamMetadata } from './output';

/** Frames with a name of their own (v2.3/v2.4 ids, then the v2.2 ones); other text frames keep their id. */
const NAMES: Readonly<Record<string, string>> = {
  TIT2: 'title',
  TPE1: 'artist',
  TALB: 'album',
  TRCK: 'trackNumber',
  TCON: 'genre',
  TYER: 'year',
  TDRC: 'year',
  TT2: 'title',
  TP1: 'artist',
  TAL: 'album',
  TRK: 'trackNumber',
  TCO: 'genre',
  TYE: 'year',
};

/** The v2.3 frame id3Tag() writes for a name. */
const FRAME_OF: Readonly<Record<string, string>> = { title: 'TIT2', artist: 'TPE1', album: 'TALB', trackNumber: 'TRCK', genre: 'TCON', year: 'TYER' };

/** A text frame larger than this is skipped rather than held (no sane title is this long). */
const MAX_TEXT_FRAME_BYTES = 64 * 1024;

/** Own keys only: a description from a tag is whatever string the writer chose ('constructor', '__proto__'). */
const lookup = (table: Readonly<Record<string, string>>, key: string): string | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);

const syncsafe = (b: Uint8Array, at: number): number => (b[at] << 21) | (b[at + 1] << 14) | (b[at + 2] << 7) | b[at + 3];

/** Drops the 0x00 that unsynchronisation puts after every 0xFF (`lastFF`: the byte before `bytes` was 0xFF). */
function resync(bytes: Buffer, lastFF: boolean): { bytes: Buffer; lastFF: boolean } {
  if (!lastFF && !bytes.includes(0xff)) return { bytes, lastFF: false };
  const out: number[] = [];
  let ff = lastFF;
  for (const b of bytes) {
    if (!(ff && b === 0)) out.push(b);
    ff = b === 0xff;
  }
  return { bytes: Buffer.from(out), lastFF: ff };
}

/** Splits text on its terminators (one zero byte, or two on a 2-byte boundary for UTF-16). */
function splitText(data: Buffer, wide: boolean): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  const step = wide ? 2 : 1;
  for (let i = 0; i + step <= data.length; i += step) {
    if (data[i] === 0 && (!wide || data[i + 1] === 0)) {
      parts.push(data.subarray(start, i));
      start = i + step;
    }
  }
  parts.push(data.subarray(start));
  return parts;
}

function utf16(bytes: Buffer, bigEndian: boolean): string {
  let b = bytes.subarray(0, bytes.length & ~1);
  let be = bigEndian;
  if (b[0] === 0xff && b[1] === 0xfe) [b, be] = [b.subarray(2), false];
  else if (b[0] === 0xfe && b[1] === 0xff) [b, be] = [b.subarray(2), true];
  // Node decodes only little-endian UTF-16.
  return be ? Buffer.from(b).swap16().toString('utf16le') : b.toString('utf16le');
}

/**
 * The strings of a text frame's body (encoding byte first): 0 ISO-8859-1, 1 UTF-16 with a BOM (each
 * string its own; little-endian without one, as most writers are), 2 UTF-16BE, 3 UTF-8. Undefined
 * for an unknown encoding.
 */
function decodeText(body: Buffer): string[] | undefined {
  const encoding = body[0];
  const data = body.subarray(1);
  let strings: string[];
  switch (encoding) {
    case 0:
      strings = splitText(data, false).map((p) => p.toString('latin1'));
      break;
    case 3:
      strings = splitText(data, false).map((p) => p.toString('utf8'));
      break;
    case 1:
    case 2:
      strings = splitText(data, true).map((p) => utf16(p, encoding === 2));
      break;
    default:
      return undefined;
  }
  // A terminated last string leaves an empty one after it.
  while (strings.length > 0 && strings[strings.length - 1] === '') strings.pop();
  return strings;
}

type Step =
  /** The tag header: "ID3", version, flags, size. */
  | 'header'
  /** The size of the extended header. */
  | 'extSize'
  | 'frameHeader'
  | 'text';

/**
 * Reads the ID3v2 tag at the start of a stream from chunks split anywhere. push() returns the
 * metadata once, when the tag's frames have been read (at its padding or its end); a stream that
 * does not start with a tag, or whose tag has no text, gives none. The audio after the tag is not
 * looked at.
 */
export class Id3Reader {
  /** The tag has been read, or there is none: push() has nothing more to give. */
  done = false;
  private readonly metadata = new Map<string, string>();
  private step: Step = 'header';
  /** Bytes of the current step gathered so far (the tag header before it is known), and how many it needs. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private need = 10;
  /** Bytes to drop before the next step (a binary frame, the extended header). */
  private skip = 0;
  /** Raw bytes of the tag body still to come. */
  private bodyLeft = 0;
  private version = 0;
  /** v2.2/v2.3: the whole body is unsynchronised; v2.4: every frame is. */
  private tagUnsync = false;
  private lastFF = false;
  private frameId = '';
  private frameFlags = 0;

  push(chunk: Uint8Array): StreamMetadata | undefined {
    if (this.done || chunk.length === 0) return undefined;
    let bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.step === 'header') {
      const head = Buffer.concat([...this.held, bytes]);
      if (!head.subarray(0, 3).equals(Buffer.from('ID3').subarray(0, Math.min(3, head.length)))) return this.finish();
      if (head.length < 10) {
        this.held = [head];
        return undefined;
      }
      this.held = [];
      if (!this.readHeader(head)) return this.finish();
      bytes = head.subarray(10);
    }
    const raw = bytes.subarray(0, this.bodyLeft);
    this.bodyLeft -= raw.length;
    let body = raw;
    if (this.tagUnsync && this.version < 4) ({ bytes: body, lastFF: this.lastFF } = resync(raw, this.lastFF));
    this.feed(body);
    if (this.done) return this.result();
    return this.bodyLeft === 0 ? this.finish() : undefined;
  }

  private readHeader(h: Buffer): boolean {
    const version = h[3];
    const flags = h[5];
    if (version < 2 || version > 4 || h[4] === 0xff || h.subarray(6, 10).some((b) => b >= 0x80)) return false;
    // v2.2 bit 6 is whole-tag compression, which no one defined: nothing readable.
    if (version === 2 && (flags & 0x40) !== 0) return false;
    this.version = version;
    this.tagUnsync = (flags & 0x80) !== 0;
    this.bodyLeft = syncsafe(h, 6);
    if (version > 2 && (flags & 0x40) !== 0) this.expect('extSize', 4);
    else this.expect('frameHeader', this.frameHeaderBytes());
    return true;
  }

  private frameHeaderBytes(): number {
    return this.version === 2 ? 6 : 10;
  }

  private expect(step: Step, need: number): void {
    this.step = step;
    this.need = need;
    this.held = [];
    this.heldBytes = 0;
  }

  /** Walks the (resynchronised) body bytes through the steps. */
  private feed(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length && !this.done) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, bytes.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      const n = Math.min(this.need - this.heldBytes, bytes.length - at);
      // Copied: the caller may reuse its buffer once push() returns.
      this.held.push(Buffer.from(bytes.subarray(at, at + n)));
      this.heldBytes += n;
      at += n;
      if (this.heldBytes === this.need) this.complete(Buffer.concat(this.held));
    }
  }

  /** A step has all its bytes. */
  private complete(bytes: Buffer): void {
    switch (this.step) {
      case 'extSize': {
        // v2.3 counts the bytes after the size field; v2.4 counts the whole extended header, syncsafe.
        this.skip = this.version === 3 ? bytes.readUInt32BE(0) : Math.max(0, syncsafe(bytes, 0) - 4);
        this.expect('frameHeader', this.frameHeaderBytes());
        return;
      }
      case 'frameHeader':
        return this.frameHeader(bytes);
      case 'text':
        this.textFrame(bytes);
        this.expect('frameHeader', this.frameHeaderBytes());
        return;
      case 'header':
        return;
    }
  }

  private frameHeader(h: Buffer): void {
    // Padding (zero bytes) ends the frames; so does anything that is not a frame id.
    const idLength = this.version === 2 ? 3 : 4;
    const id = h.subarray(0, idLength).toString('latin1');
    if (!/^[A-Z0-9]+$/.test(id)) return void this.finish();
    let size: number;
    if (this.version === 2) size = h.readUIntBE(3, 3);
    else if (this.version === 3) size = h.readUInt32BE(4);
    // v2.4 sizes are syncsafe, but some writers (old iTunes) put plain ones: a byte with its top bit set gives that away.
    else size = h.subarray(4, 8).some((b) => b >= 0x80) ? h.readUInt32BE(4) : syncsafe(h, 4);
    this.frameId = id;
    this.frameFlags = this.version === 2 ? 0 : h[9];
    const unreadable = this.version === 3 ? (this.frameFlags & 0xc0) !== 0 : this.version === 4 && (this.frameFlags & 0x0c) !== 0;
    if (id[0] === 'T' && !unreadable && size > 0 && size <= MAX_TEXT_FRAME_BYTES) this.expect('text', size);
    else {
      this.skip = size;
      this.expect('frameHeader', this.frameHeaderBytes());
    }
  }

  private textFrame(frame: Buffer): void {
    let body = frame;
    if (this.version === 3 && (this.frameFlags & 0x20) !== 0) body = body.subarray(1);
    if (this.version === 4) {
      // The group id, then the data length indicator, come before the text when flagged.
      if ((this.frameFlags & 0x40) !== 0) body = body.subarray(1);
      if ((this.frameFlags & 0x01) !== 0) body = body.subarray(4);
      if (this.tagUnsync || (this.frameFlags & 0x02) !== 0) body = resync(body, false).bytes;
    }
    const strings = body.length > 0 ? decodeText(body) : undefined;
    if (strings === undefined) return;
    let key = lookup(NAMES, this.frameId) ?? this.frameId;
    let values = strings;
    if (this.frameId === 'TXXX' || this.frameId === 'TXX') {
      // A user-defined frame: a description, then the value.
      key = strings[0] !== undefined && strings[0] !== '' ? strings[0] : this.frameId;
      values = strings.slice(1);
    }
    // v2.4 separates several values with a terminator; v2.3 writers put '/' between them.
    let value = values.filter((v) => v !== '').join('/');
    if (this.frameId === 'TDRC') value = /^\d{4}/.exec(value)?.[0] ?? value;
    // A frame may appear twice (TYER and TDRC, a repeated TXXX description): the first one counts.
    if (value !== '' && !this.metadata.has(key)) this.metadata.set(key, value);
  }

  private finish(): StreamMetadata | undefined {
    this.done = true;
    this.held = [];
    return this.result();
  }

  private result(): StreamMetadata | undefined {
    // fromEntries defines own properties, so even a '__proto__' description stays a plain key.
    return this.metadata.size > 0 ? Object.fromEntries(this.metadata) : undefined;
  }
}

/** The text of the ID3v2 tag at the start of `bytes`, when there is one holding text. */
export function readId3(bytes: Uint8Array): StreamMetadata | undefined {
  return new Id3Reader().push(bytes);
}

/**
 * An ID3v2.3 tag holding `fields` as text frames, to put before MP3 frames (tests, and the simulator
 * serving tagged music). A key is a name (title, artist, album, trackNumber, genre, year), a text
 * frame id (TCOM), or anything else, which becomes a TXXX frame with that description — so
 * readId3() gives `fields` back for names and other keys. Text is ISO-8859-1 when it fits, else
 * UTF-16 with a BOM (v2.3 has no UTF-8).
 */
export function id3Tag(fields: Record<string, string>): Buffer {
  const frames = Object.entries(fields).map(([key, value]) => {
    const named = lookup(FRAME_OF, key) ?? (/^T[A-Z0-9]{3}$/.test(key) && key !== 'TXXX' ? key : undefined);
    const strings = named !== undefined ? [value] : [key, value];
    const latin1 = strings.every((s) => /^[\x01-\xff]*$/.test(s));
    const encoded = strings.map((s) => (latin1 ? Buffer.from(s, 'latin1') : Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')])));
    const terminator = Buffer.alloc(latin1 ? 1 : 2);
    const body = Buffer.concat([Buffer.from([latin1 ? 0 : 1]), ...encoded.flatMap((e, i) => (i === 0 ? [e] : [terminator, e]))]);
    const header = Buffer.alloc(10);
    header.write(named ?? 'TXXX', 0, 'latin1');
    header.writeUInt32BE(body.length, 4);
    return Buffer.concat([header, body]);
  });
  const body = Buffer.concat(frames);
  const n = body.length;
  const header = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, (n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
  return Buffer.concat([header, body]);
}

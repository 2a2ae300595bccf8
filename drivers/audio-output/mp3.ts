// MPEG audio frame headers, read from bytes as they arrive: how many frames a stream holds and how
// many ms of audio they are, without decoding. Speech (PROTOCOL.md §6.3: AUDIO_MPEG) and music
// (§8.3) are MP3; outputs use this to report offsets and to start part-way into a stream.

export type MpegVersion = 1 | 2 | 2.5;
export type MpegLayer = 1 | 2 | 3;

export interface Mp3FrameHeader {
  readonly version: MpegVersion;
  readonly layer: MpegLayer;
  readonly bitrateKbps: number;
  readonly sampleRate: number;
  readonly padding: boolean;
  readonly channels: 1 | 2;
  /** Samples per channel in the frame. */
  readonly samples: number;
  /** Bytes of the whole frame, header included. */
  readonly length: number;
  readonly durationMs: number;
}

export interface Mp3Frame extends Mp3FrameHeader {
  /** Byte position of the frame in the stream (counted from the first byte pushed). */
  readonly position: number;
}

// Indexed by the 4-bit bitrate field; 0 is "free format" (length unknowable from the header) and
// 15 is invalid, so both are left out as 0 and rejected.
const BITRATES_V1: Record<MpegLayer, readonly number[]> = {
  1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0],
  2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0],
  3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0],
};
const BITRATES_V2: Record<MpegLayer, readonly number[]> = {
  1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0],
  2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0],
  3: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0],
};
const SAMPLE_RATES: Record<MpegVersion, readonly number[]> = {
  1: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  2.5: [11025, 12000, 8000],
};

/** Reads the 4-byte frame header at `at`; undefined when those bytes are not a valid header. */
export function parseFrameHeader(bytes: Uint8Array, at = 0): Mp3FrameHeader | undefined {
  if (at + 4 > bytes.length) return undefined;
  const b1 = bytes[at + 1];
  const b2 = bytes[at + 2];
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  if (versionBits === 1 || layerBits === 0) return undefined;
  const version: MpegVersion = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = (4 - layerBits) as MpegLayer;
  const bitrateKbps = (version === 1 ? BITRATES_V1 : BITRATES_V2)[layer][b2 >> 4];
  const rateIndex = (b2 >> 2) & 3;
  if (bitrateKbps === 0 || rateIndex === 3) return undefined;
  const sampleRate = SAMPLE_RATES[version][rateIndex];
  const padding = (b2 & 2) !== 0;
  const channels = bytes[at + 3] >> 6 === 3 ? 1 : 2;
  const bitrate = bitrateKbps * 1000;
  let samples: number;
  let length: number;
  if (layer === 1) {
    samples = 384;
    length = (Math.floor((12 * bitrate) / sampleRate) + (padding ? 1 : 0)) * 4;
  } else {
    // Layer III of MPEG-2 and 2.5 has half the samples per frame, hence half the bytes.
    samples = layer === 3 && version !== 1 ? 576 : 1152;
    length = Math.floor(((samples / 8) * bitrate) / sampleRate) + (padding ? 1 : 0);
  }
  return { version, layer, bitrateKbps, sampleRate, padding, channels, samples, length, durationMs: (samples * 1000) / sampleRate };
}

/** Frames of one stream share these; a header that differs is more likely garbage than a frame. */
const sameStream = (a: Mp3FrameHeader, b: Mp3FrameHeader): boolean =>
  a.version === b.version && a.layer === b.layer && a.sampleRate === b.sampleRate;

/** Size of the ID3v2 tag at `at` (header, body and footer), 0 when there is none, undefined when more bytes are needed to tell. */
function id3v2Length(bytes: Uint8Array, at: number): number | undefined {
  const avail = bytes.length - at;
  const magic = [0x49, 0x44, 0x33]; // "ID3"
  for (let i = 0; i < Math.min(3, avail); i++) if (bytes[at + i] !== magic[i]) return 0;
  if (avail < 10) return undefined;
  const sizeBytes = bytes.subarray(at + 6, at + 10);
  if (bytes[at + 3] === 0xff || bytes[at + 4] === 0xff || sizeBytes.some((b) => b >= 0x80)) return 0;
  // The size is "syncsafe": 7 bits a byte, so the tag body itself cannot hold a frame sync.
  const size = (sizeBytes[0] << 21) | (sizeBytes[1] << 14) | (sizeBytes[2] << 7) | sizeBytes[3];
  const footer = (bytes[at + 5] & 0x10) !== 0 ? 10 : 0;
  return 10 + size + footer;
}

/** Whether the bytes at `at` are an ID3v1 tag ("TAG"), which may end an MP3 file. */
const isId3v1 = (bytes: Uint8Array, at: number): boolean => bytes[at] === 0x54 && bytes[at + 1] === 0x41 && bytes[at + 2] === 0x47;

/**
 * Counts MPEG audio frames (layers I–III, MPEG-1/2/2.5) in bytes that may be split anywhere.
 * ID3v2 tags are skipped; anything else that is not a frame is skipped byte by byte until frames
 * resume. A frame counts once it is confirmed: right after its last byte comes the header of a
 * frame of the same stream, a tag, or the end of the stream — so a stray 0xFFF in garbage is not
 * taken for a frame (the price: a frame followed by garbage is not counted either). Free-format
 * (bitrate 0) frames are not counted.
 */
export class Mp3Parser {
  /** Frames counted so far. */
  frames = 0;
  /** Their total duration. */
  durationMs = 0;
  /** Bytes pushed so far. */
  bytes = 0;
  /** Bytes of ID3v2 tags skipped. */
  id3Bytes = 0;
  /** Bytes that were neither a counted frame nor an ID3v2 tag (garbage, ID3v1, a truncated last frame). */
  skippedBytes = 0;

  private pending: Buffer = Buffer.alloc(0);
  /** Stream position of pending[0]. */
  private pendingAt = 0;
  /** Bytes of a tag still to skip, which may run past what has arrived. */
  private tagLeft = 0;
  private ended = false;

  /** Adds bytes; returns the frames they confirm. */
  push(chunk: Uint8Array): Mp3Frame[] {
    if (this.ended) throw new Error('Mp3Parser: push after end');
    this.bytes += chunk.length;
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    return this.scan();
  }

  /** No more bytes: settles what is left over; returns the frames that confirms. */
  end(): Mp3Frame[] {
    if (this.ended) return [];
    this.ended = true;
    return this.scan();
  }

  private scan(): Mp3Frame[] {
    const out: Mp3Frame[] = [];
    const buf = this.pending;
    const ended = this.ended;
    let i = 0;
    while (i < buf.length) {
      if (this.tagLeft > 0) {
        const n = Math.min(this.tagLeft, buf.length - i);
        this.tagLeft -= n;
        this.id3Bytes += n;
        i += n;
        continue;
      }
      const tag = id3v2Length(buf, i);
      if (tag === undefined && !ended) break;
      if (tag !== undefined && tag > 0) {
        this.tagLeft = tag;
        continue;
      }
      if (buf.length - i < 4 && !ended) break;
      const header = parseFrameHeader(buf, i);
      const after = header === undefined ? 0 : i + header.length;
      let confirmed = false;
      if (header !== undefined) {
        if (after + 4 <= buf.length) {
          const next = parseFrameHeader(buf, after);
          confirmed = (next !== undefined && sameStream(next, header)) || id3v2Length(buf, after) !== 0 || isId3v1(buf, after);
        } else if (!ended) break;
        else confirmed = after === buf.length;
      }
      if (header === undefined || !confirmed) {
        this.skippedBytes++;
        i++;
        continue;
      }
      out.push({ ...header, position: this.pendingAt + i });
      this.frames++;
      this.durationMs += header.durationMs;
      i = after;
    }
    this.pending = buf.subarray(i);
    this.pendingAt += i;
    return out;
  }
}

/** Frames and duration of a whole MP3 held in memory. */
export function mp3Duration(bytes: Uint8Array): { frames: number; durationMs: number } {
  const parser = new Mp3Parser();
  parser.push(bytes);
  parser.end();
  return { frames: parser.frames, durationMs: parser.durationMs };
}

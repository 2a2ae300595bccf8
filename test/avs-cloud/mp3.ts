// Silent MP3 the simulator makes itself, for Speak attachments (PROTOCOL.md §6.3: AUDIO_MPEG) and
// AudioPlayer URLs (§8.3). Every frame is the same 144 bytes: MPEG-2 Layer III, 16 kHz, mono,
// 32 kbit/s, no CRC (header FF F3 48 C0), and a zeroed side info and main data — which decodes to
// 576 samples (36 ms) of silence. A decoder (mpg123, the SDK's player) takes it as valid audio.
// Media files may start with an ID3v2.3 tag (§8.6 StreamMetadataExtracted tests), built here
// rather than taken from drivers/ so the simulator stays independent of the device's own parser.

/** Bytes of one frame: 72 × 32000 / 16000 (MPEG-2 Layer III frame size formula). */
export const MP3_FRAME_BYTES = 144;
/** Milliseconds of audio in one frame: 576 samples at 16 kHz. */
export const MP3_FRAME_MS = 36;

const FRAME = Buffer.alloc(MP3_FRAME_BYTES);
FRAME.set([0xff, 0xf3, 0x48, 0xc0], 0);

/** Silence of at least `durationMs` (rounded up to whole frames; at least one frame). */
export function silentMp3(durationMs: number): Buffer {
  const frames = Math.max(1, Math.ceil(Math.max(0, durationMs) / MP3_FRAME_MS));
  const out = Buffer.allocUnsafe(frames * MP3_FRAME_BYTES);
  for (let i = 0; i < frames; i++) FRAME.copy(out, i * MP3_FRAME_BYTES);
  return out;
}

/** The duration of a buffer made by `silentMp3`. */
export const silentMp3DurationMs = (mp3: Buffer): number => Math.floor(mp3.length / MP3_FRAME_BYTES) * MP3_FRAME_MS;

/**
 * The ID3v2.3 text frames a scenario's media `tags` may set, by the key a device reports in
 * StreamMetadataExtracted (PROTOCOL.md §8.6: "title", "artist", "trackNumber" …).
 */
export const ID3_TEXT_FRAMES = {
  title: 'TIT2',
  artist: 'TPE1',
  album: 'TALB',
  albumArtist: 'TPE2',
  trackNumber: 'TRCK',
  genre: 'TCON',
  year: 'TYER',
  composer: 'TCOM',
} as const;

export type Id3Tags = { readonly [K in keyof typeof ID3_TEXT_FRAMES]?: string | number } & { readonly comment?: string };

/** ID3v2 header: "ID3", version 3.0, no flags, then the 28-bit syncsafe size of what follows. */
const ID3_HEADER_BYTES = 10;

/**
 * An ID3v2.3 text: ISO-8859-1 (encoding 0) when every character fits, else UTF-16 with a BOM
 * (encoding 1) — v2.3 has no UTF-8. `terminated` adds the null a string followed by another needs.
 */
function id3Text(text: string, encoding: 0 | 1, terminated = false): Buffer {
  if (encoding === 0) return Buffer.concat([Buffer.from(text, 'latin1'), Buffer.alloc(terminated ? 1 : 0)]);
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le'), Buffer.alloc(terminated ? 2 : 0)]);
}

const encodingFor = (...texts: string[]): 0 | 1 => (texts.every((s) => [...s].every((c) => (c.codePointAt(0) ?? 0) <= 0xff)) ? 0 : 1);

function id3Frame(id: string, content: Buffer): Buffer {
  const header = Buffer.alloc(10);
  header.write(id, 0, 'latin1');
  header.writeUInt32BE(content.length, 4); // v2.3: a plain 32-bit size (v2.4 makes it syncsafe)
  return Buffer.concat([header, content]);
}

/**
 * An ID3v2.3 tag with a text frame per tag given (ID3_TEXT_FRAMES) and a COMM frame for
 * `comment`; empty (no tag at all) when no tag is given. It goes in front of the MP3 frames.
 */
export function id3v2Tag(tags: Id3Tags): Buffer {
  const frames: Buffer[] = [];
  for (const [key, id] of Object.entries(ID3_TEXT_FRAMES)) {
    const value = tags[key as keyof typeof ID3_TEXT_FRAMES];
    if (value === undefined) continue;
    const text = String(value);
    const encoding = encodingFor(text);
    frames.push(id3Frame(id, Buffer.concat([Buffer.from([encoding]), id3Text(text, encoding)])));
  }
  if (tags.comment !== undefined) {
    const encoding = encodingFor(tags.comment);
    // COMM: encoding, language, an (empty) short description ended by a null, then the text.
    frames.push(id3Frame('COMM', Buffer.concat([Buffer.from([encoding]), Buffer.from('eng', 'latin1'), id3Text('', encoding, true), id3Text(tags.comment, encoding)])));
  }
  if (frames.length === 0) return Buffer.alloc(0);
  const body = Buffer.concat(frames);
  const header = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0]);
  // Syncsafe: 7 bits per byte, so no byte of the size looks like the start of an MPEG sync word.
  for (let i = 0; i < 4; i++) header[6 + i] = (body.length >> (7 * (3 - i))) & 0x7f;
  return Buffer.concat([header, body]);
}

/** Bytes of the ID3v2 tag at the start of `file` (header included), 0 when there is none. */
export function id3v2TagBytes(file: Buffer): number {
  if (file.length < ID3_HEADER_BYTES || file.toString('latin1', 0, 3) !== 'ID3') return 0;
  return ID3_HEADER_BYTES + file.subarray(6, 10).reduce((size, b) => (size << 7) | (b & 0x7f), 0);
}

/** A media file: the ID3v2 tag (when tags are given) then `durationMs` of silence (silentMp3). */
export function mediaMp3(durationMs: number, tags: Id3Tags = {}): Buffer {
  return Buffer.concat([id3v2Tag(tags), silentMp3(durationMs)]);
}

/**
 * Where audio position `ms` lies in a file made by `mediaMp3`: the end of the frame that holds
 * it (the tag and every frame that starts before `ms`), at most the whole file.
 */
export function mp3OffsetAt(file: Buffer, ms: number): number {
  const tag = id3v2TagBytes(file);
  const frames = Math.floor((file.length - tag) / MP3_FRAME_BYTES);
  return tag + Math.min(frames, Math.ceil(Math.max(0, ms) / MP3_FRAME_MS)) * MP3_FRAME_BYTES;
}

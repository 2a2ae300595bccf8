import { Id3Reader, id3Tag, mp3Duration, readId3, type StreamMetadata } from '../../../drivers/audio-output';
import { MP3_FRAME_MS, silentMp3 } from '../../avs-cloud/mp3';

const syncsafe = (n: number): Buffer => Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** A text frame body: the encoding byte, then the strings in it, each terminated but the last. */
function text(encoding: 0 | 1 | 2 | 3, strings: readonly string[], bigEndianBom = false): Buffer {
  const encode = (s: string): Buffer => {
    switch (encoding) {
      case 0:
        return Buffer.from(s, 'latin1');
      case 3:
        return Buffer.from(s, 'utf8');
      case 2:
        return Buffer.from(s, 'utf16le').swap16();
      case 1:
        return bigEndianBom ? Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(s, 'utf16le').swap16()]) : Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
    }
  };
  const terminator = Buffer.alloc(encoding === 1 || encoding === 2 ? 2 : 1);
  return Buffer.concat([Buffer.from([encoding]), ...strings.flatMap((s, i) => (i === 0 ? [encode(s)] : [terminator, encode(s)]))]);
}

const frame23 = (id: string, body: Buffer, formatFlags = 0): Buffer => Buffer.concat([Buffer.from(id, 'latin1'), u32(body.length), Buffer.from([0, formatFlags]), body]);
const frame24 = (id: string, body: Buffer, formatFlags = 0): Buffer => Buffer.concat([Buffer.from(id, 'latin1'), syncsafe(body.length), Buffer.from([0, formatFlags]), body]);
const frame22 = (id: string, body: Buffer): Buffer => Buffer.concat([Buffer.from(id, 'latin1'), u32(body.length).subarray(1), body]);

/** A whole tag: header (syncsafe size of everything after it but the footer), body, footer when flagged. */
function tag(version: 2 | 3 | 4, body: Buffer, flags = 0): Buffer {
  const header = Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([version, 0, flags]), syncsafe(body.length)]);
  const footer = (flags & 0x10) !== 0 ? Buffer.concat([Buffer.from('3DI', 'latin1'), Buffer.from([version, 0, flags]), syncsafe(body.length)]) : Buffer.alloc(0);
  return Buffer.concat([header, body, footer]);
}

/** Bytes of a binary frame, full of what a careless reader could take for headers. */
const binary = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => [0xff, 0x54, 0x49, 0x54, 0x32, 0x00][i % 6]));

/** Pushes the chunks; every non-undefined answer. */
function readChunks(chunks: readonly Buffer[]): { results: StreamMetadata[]; done: boolean } {
  const reader = new Id3Reader();
  const results: StreamMetadata[] = [];
  for (const c of chunks) {
    const r = reader.push(c);
    if (r !== undefined) results.push(r);
  }
  return { results, done: reader.done };
}

const bytewise = (b: Buffer): Buffer[] => Array.from(b, (x) => Buffer.from([x]));

describe('id3Tag and readId3', () => {
  it('reads back the names, other text frames by their id, and other keys as TXXX descriptions', () => {
    const fields = { title: 'Song Title', artist: 'Some Artist', album: 'An Album', trackNumber: '3/12', genre: 'Jazz', year: '1999', TCOM: 'A Composer', mood: 'calm' };
    const tagged = id3Tag(fields);
    expect(tagged.subarray(0, 5)).toEqual(Buffer.from([0x49, 0x44, 0x33, 3, 0]));
    expect(readId3(tagged)).toEqual(fields);
  });

  it('writes text that is not ISO-8859-1 as UTF-16 with a BOM', () => {
    const fields = { title: 'Cœur ☃ 東京', artist: 'Björk' };
    const tagged = id3Tag(fields);
    expect(tagged.includes(Buffer.from([1, 0xff, 0xfe]))).toBe(true);
    expect(tagged.includes(Buffer.from('Björk', 'latin1'))).toBe(true);
    expect(readId3(tagged)).toEqual(fields);
  });

  it('is skipped by the MP3 parser, so durations are as without it', () => {
    const mp3 = Buffer.concat([id3Tag({ title: 'x' }), silentMp3(360)]);
    expect(mp3Duration(mp3)).toEqual({ frames: 10, durationMs: 10 * MP3_FRAME_MS });
  });

  it('keeps every description as a plain key', () => {
    const md = readId3(id3Tag(Object.fromEntries([['__proto__', 'a'], ['constructor', 'b']])));
    expect(Object.getPrototypeOf(md)).toBe(Object.prototype);
    expect(Object.entries(md ?? {})).toEqual([
      ['__proto__', 'a'],
      ['constructor', 'b'],
    ]);
  });
});

describe('Id3Reader', () => {
  const fields = { title: 'Song Title', artist: 'Søme Ärtist ☃', album: 'An Album', year: '2001' };
  const mp3 = Buffer.concat([id3Tag(fields), silentMp3(360)]);

  it('gives the metadata once, as soon as the tag is read, wherever the bytes are split', () => {
    const tagLength = id3Tag(fields).length;
    for (let at = 0; at <= mp3.length; at++) {
      const { results, done } = readChunks([mp3.subarray(0, at), mp3.subarray(at)]);
      expect(results).toEqual([fields]);
      expect(done).toBe(true);
      // Complete with its last byte, before the audio.
      if (at >= tagLength) expect(readChunks([mp3.subarray(0, at)]).results).toEqual([fields]);
    }
    expect(readChunks(bytewise(mp3)).results).toEqual([fields]);
    const reader = new Id3Reader();
    expect(bytewise(id3Tag(fields)).map((b) => reader.push(b)).filter((r) => r !== undefined)).toEqual([fields]);
  });

  it('reads ID3v2.4: syncsafe frame sizes, UTF-8, UTF-16BE, several values, TDRC, extended header, padding, footer', () => {
    const long = 'A'.repeat(200); // a frame size past 127 bytes reads differently as syncsafe and as plain
    const unsynced = Buffer.from([0, 0x78, 0xff, 0x00, 0xe0, 0x79]); // "xÿày" with a 0x00 after the 0xFF
    const body = Buffer.concat([
      Buffer.concat([syncsafe(6), Buffer.from([1, 0])]), // extended header: its size counts itself
      frame24('TIT2', text(3, ['Ünïcødé ☃'])),
      frame24('APIC', binary(300)),
      frame24('TPE1', text(3, ['Artist A', 'Artist B', ''])),
      frame24('TPE2', text(3, [long])),
      frame24('TALB', text(2, ['Album Ω'])),
      frame24('TCON', text(1, ['Rock'], true)),
      frame24('PRIV', binary(20)),
      frame24('TDRC', text(0, ['2019-05-01T10:00'])),
      // Data length indicator (0x01) and unsynchronisation (0x02).
      frame24('TCOM', Buffer.concat([syncsafe(5), unsynced]), 0x03),
      frame24('GEOB', binary(10)),
      Buffer.alloc(50),
    ]);
    const tagged = Buffer.concat([tag(4, body, 0x40 | 0x10), silentMp3(72)]);
    const expected = { title: 'Ünïcødé ☃', artist: 'Artist A/Artist B', TPE2: long, album: 'Album Ω', genre: 'Rock', year: '2019', TCOM: 'xÿày' };
    expect(readId3(tagged)).toEqual(expected);
    for (let at = 1; at < tagged.length; at++) expect(readChunks([tagged.subarray(0, at), tagged.subarray(at)]).results).toEqual([expected]);
    expect(mp3Duration(tagged).frames).toBe(2);
  });

  it('reads ID3v2.3: UTF-16 with either BOM, TXXX, the first of TYER and TDRC, grouped frames; skips compressed ones', () => {
    const body = Buffer.concat([
      Buffer.concat([u32(6), Buffer.alloc(6)]), // extended header: its size leaves itself out
      frame23('TIT2', text(1, ['Cœur'])),
      frame23('TPE1', text(1, ['Ünder ☃'], true)),
      frame23('APIC', binary(70_000)),
      frame23('TRCK', text(0, ['3/12'])),
      frame23('TYER', text(0, ['1999'])),
      frame23('TDRC', text(0, ['2001'])),
      frame23('TXXX', text(1, ['MOOD', 'calm'])),
      frame23('TCOP', text(0, ['c'.repeat(70_000)])), // too long to hold: skipped
      frame23('TENC', Buffer.concat([Buffer.from([7]), text(0, ['encoder'])]), 0x20), // group id first
      frame23('TPE2', Buffer.concat([u32(100), Buffer.from([0x78, 0x9c])]), 0x80), // compressed
      frame23('TPUB', text(0, [''])),
    ]);
    const tagged = Buffer.concat([tag(3, body, 0x40), silentMp3(36)]);
    const expected = { title: 'Cœur', artist: 'Ünder ☃', trackNumber: '3/12', year: '1999', MOOD: 'calm', TENC: 'encoder' };
    expect(readId3(tagged)).toEqual(expected);
    const step = 997; // the tag is ~140 kB: a split every so often, and one byte at a time
    for (let at = 1; at < tagged.length; at += step) expect(readChunks([tagged.subarray(0, at), tagged.subarray(at)]).results).toEqual([expected]);
    expect(readChunks(bytewise(tagged)).results).toEqual([expected]);
  });

  it('reads an ID3v2.3 tag unsynchronised as a whole', () => {
    const frames = Buffer.concat([frame23('TIT2', text(0, ['x\xff\xe0y'])), frame23('TPE1', text(0, ['\xff']))]);
    const unsync: number[] = [];
    for (const b of frames) {
      unsync.push(b);
      if (b === 0xff) unsync.push(0);
    }
    const tagged = tag(3, Buffer.from(unsync), 0x80);
    expect(readId3(tagged)).toEqual({ title: 'xÿày', artist: 'ÿ' });
    expect(readChunks(bytewise(tagged)).results).toEqual([{ title: 'xÿày', artist: 'ÿ' }]);
  });

  it('reads ID3v2.2 three-letter frames', () => {
    const body = Buffer.concat([frame22('TT2', text(0, ['Old'])), frame22('PIC', binary(40)), frame22('TP1', text(1, ['Artïst'])), frame22('TYE', text(0, ['1998'])), frame22('TXX', text(0, ['k', 'v']))]);
    expect(readId3(tag(2, body))).toEqual({ title: 'Old', artist: 'Artïst', year: '1998', k: 'v' });
  });

  it('gives nothing for a stream without a tag, or a tag without text, and stops looking', () => {
    const plain = new Id3Reader();
    expect(plain.push(silentMp3(36).subarray(0, 1))).toBeUndefined();
    expect(plain.done).toBe(true);
    const almost = new Id3Reader();
    expect(almost.push(Buffer.from('ID'))).toBeUndefined();
    expect(almost.done).toBe(false);
    expect(almost.push(Buffer.from('4'))).toBeUndefined();
    expect(almost.done).toBe(true);
    expect(readChunks([tag(3, frame23('APIC', binary(50))), silentMp3(36)])).toEqual({ results: [], done: true });
    // A bad version or a size that is not syncsafe: not a tag.
    expect(readId3(Buffer.concat([Buffer.from('ID3'), Buffer.from([9, 0, 0, 0, 0, 0, 1])]))).toBeUndefined();
    expect(readId3(Buffer.concat([Buffer.from('ID3'), Buffer.from([3, 0, 0, 0, 0, 0x80, 1])]))).toBeUndefined();
  });

  it('waits for the rest of a tag cut short, and keeps what it read when a frame header is garbage', () => {
    const whole = tag(3, Buffer.concat([frame23('TIT2', text(0, ['a'])), frame23('TPE1', text(0, ['b']))]));
    const reader = new Id3Reader();
    expect(reader.push(whole.subarray(0, whole.length - 1))).toBeUndefined();
    expect(reader.done).toBe(false);
    const garbage = tag(3, Buffer.concat([frame23('TIT2', text(0, ['a'])), Buffer.from('tpe1\x00\x00\x00\x02\x00\x00\x00b', 'latin1')]));
    expect(readId3(garbage)).toEqual({ title: 'a' });
  });
});

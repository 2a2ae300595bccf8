import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { mp3Duration, Mp3Parser, parseFrameHeader } from '../../../drivers/audio-output';
import { MP3_FRAME_BYTES, MP3_FRAME_MS, silentMp3 } from '../../avs-cloud/mp3';

/** An ID3v2.4 tag whose body is `body` (syncsafe size). */
function id3(body: Buffer, footer = false): Buffer {
  const n = body.length;
  const header = Buffer.from([0x49, 0x44, 0x33, 4, 0, footer ? 0x10 : 0, (n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
  return Buffer.concat([header, body, footer ? Buffer.from('3DI\x04\x00\x10\x00\x00\x00\x00', 'latin1') : Buffer.alloc(0)]);
}

/** Pushes the chunks, ends, and sums up what the parser reported. */
function parseChunks(chunks: readonly Buffer[]): { frames: number; durationMs: number; reported: number; positions: number[]; skipped: number; id3: number } {
  const parser = new Mp3Parser();
  const positions: number[] = [];
  for (const c of chunks) positions.push(...parser.push(c).map((f) => f.position));
  positions.push(...parser.end().map((f) => f.position));
  return { frames: parser.frames, durationMs: parser.durationMs, reported: positions.length, positions, skipped: parser.skippedBytes, id3: parser.id3Bytes };
}

/** Bytes that hold no frame: no 0xFF at all. */
const junk = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37) % 255));

describe('parseFrameHeader', () => {
  it("reads the simulator's frame: MPEG-2 Layer III, 16 kHz mono, 32 kbit/s, 144 bytes, 36 ms", () => {
    expect(parseFrameHeader(silentMp3(1))).toEqual({
      version: 2,
      layer: 3,
      bitrateKbps: 32,
      sampleRate: 16000,
      padding: false,
      channels: 1,
      samples: 576,
      length: MP3_FRAME_BYTES,
      durationMs: MP3_FRAME_MS,
    });
  });

  it('reads MPEG-1 Layer III with 1152 samples a frame, and counts the padding byte', () => {
    const plain = parseFrameHeader(Buffer.from([0xff, 0xfb, 0x90, 0x00]));
    expect(plain).toMatchObject({ version: 1, layer: 3, bitrateKbps: 128, sampleRate: 44100, channels: 2, samples: 1152, length: 417 });
    expect(plain?.durationMs).toBeCloseTo(26.122, 3);
    expect(parseFrameHeader(Buffer.from([0xff, 0xfb, 0x92, 0x00]))?.length).toBe(418);
  });

  it('reads MPEG-2.5 Layer III with 576 samples a frame', () => {
    expect(parseFrameHeader(Buffer.from([0xff, 0xe3, 0x80, 0xc0]))).toMatchObject({ version: 2.5, layer: 3, bitrateKbps: 64, sampleRate: 11025, samples: 576, length: 417 });
  });

  it('rejects a reserved version, a reserved layer, bitrate 15, free format and sample rate 3', () => {
    for (const header of [
      [0xff, 0xeb, 0x90, 0x00], // version 01
      [0xff, 0xf9, 0x90, 0x00], // layer 00
      [0xff, 0xfb, 0xf0, 0x00], // bitrate 1111
      [0xff, 0xfb, 0x00, 0x00], // free format
      [0xff, 0xfb, 0x9c, 0x00], // sample rate 11
      [0xff, 0x0b, 0x90, 0x00], // no sync
    ]) {
      expect(parseFrameHeader(Buffer.from(header))).toBeUndefined();
    }
    expect(parseFrameHeader(Buffer.from([0xff, 0xf3, 0x48]))).toBeUndefined();
  });
});

describe('Mp3Parser', () => {
  it("counts the simulator's frames and their duration", () => {
    const mp3 = silentMp3(1000);
    expect(mp3Duration(mp3)).toEqual({ frames: 28, durationMs: 28 * MP3_FRAME_MS });
  });

  it('gives the same frames, at the same positions, wherever the bytes are split', () => {
    const mp3 = silentMp3(5 * MP3_FRAME_MS);
    const whole = parseChunks([mp3]);
    expect(whole.positions).toEqual([0, 144, 288, 432, 576]);
    for (let at = 0; at <= mp3.length; at++) {
      expect(parseChunks([mp3.subarray(0, at), mp3.subarray(at)])).toEqual(whole);
    }
    const byteByByte = [...mp3].map((b) => Buffer.from([b]));
    expect(parseChunks(byteByByte)).toEqual(whole);
  });

  it('reports a frame once the next header (or the end) confirms it', () => {
    const parser = new Mp3Parser();
    const [f1, f2, f3] = [0, 1, 2].map(() => silentMp3(1));
    expect(parser.push(f1)).toHaveLength(0);
    expect(parser.push(f2.subarray(0, 3))).toHaveLength(0);
    expect(parser.push(f2.subarray(3, 4)).map((f) => f.position)).toEqual([0]);
    expect(parser.push(f2.subarray(4))).toHaveLength(0);
    expect(parser.push(f3).map((f) => f.position)).toEqual([144]);
    expect(parser.end().map((f) => f.position)).toEqual([288]);
    expect(parser.frames).toBe(3);
  });

  it('does not count a frame followed by garbage', () => {
    expect(parseChunks([Buffer.concat([silentMp3(72), junk(10)])])).toMatchObject({ frames: 1, skipped: MP3_FRAME_BYTES + 10 });
  });

  it('takes a single frame that fills the whole stream', () => {
    expect(mp3Duration(silentMp3(1))).toEqual({ frames: 1, durationMs: MP3_FRAME_MS });
  });

  it('skips ID3v2 tags, even one holding bytes that look like frames', () => {
    const tag = id3(Buffer.concat([silentMp3(72), Buffer.from('title')]));
    const tail = id3(Buffer.from('between tracks'), true);
    const mp3 = Buffer.concat([tag, silentMp3(360), tail, silentMp3(72)]);
    const parsed = parseChunks([mp3]);
    expect(parsed).toMatchObject({ frames: 12, durationMs: 12 * MP3_FRAME_MS, id3: tag.length + tail.length, skipped: 0 });
    expect(parsed.positions[0]).toBe(tag.length);
    for (let at = 0; at <= tag.length + 20; at++) expect(parseChunks([mp3.subarray(0, at), mp3.subarray(at)])).toEqual(parsed);
  });

  it('resyncs after garbage, and does not take a stray header in it for a frame', () => {
    const stray = Buffer.concat([Buffer.from([0xff, 0xf3, 0x48, 0xc0]), junk(200)]);
    const id3v1 = Buffer.concat([Buffer.from('TAG'), junk(125)]);
    const mp3 = Buffer.concat([junk(33), silentMp3(180), stray, silentMp3(72), id3v1]);
    const parsed = parseChunks([mp3]);
    expect(parsed).toMatchObject({ frames: 7, durationMs: 7 * MP3_FRAME_MS, skipped: 33 + stray.length + 128, id3: 0 });
    expect(parseChunks([...mp3].map((b) => Buffer.from([b])))).toEqual(parsed);
  });

  it('does not count a truncated last frame', () => {
    const mp3 = silentMp3(108);
    const parsed = parseChunks([mp3.subarray(0, mp3.length - 10)]);
    expect(parsed).toMatchObject({ frames: 2, skipped: MP3_FRAME_BYTES - 10 });
  });

  it('gives the same result for every split of frames, tags and garbage', () => {
    const part = fc.oneof(
      fc.integer({ min: 1, max: 6 }).map((n) => silentMp3(n * MP3_FRAME_MS)),
      fc.integer({ min: 0, max: 300 }).map((n) => id3(junk(n))),
      fc.integer({ min: 1, max: 300 }).map(junk),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (parts, cuts) => {
        const bytes = Buffer.concat(parts);
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((start, i) => bytes.subarray(start, i < at.length ? at[i] : bytes.length));
        const whole = parseChunks([bytes]);
        expect(parseChunks(chunks)).toEqual(whole);
        // Frames count, but for the last of a run that garbage follows.
        const isFrames = (p: Buffer | undefined): boolean => p?.[0] === 0xff;
        const isJunk = (p: Buffer | undefined): boolean => p !== undefined && p[0] !== 0xff && p[0] !== 0x49;
        const expected = parts.reduce((n, p, i) => (isFrames(p) ? n + p.length / MP3_FRAME_BYTES - (isJunk(parts[i + 1]) ? 1 : 0) : n), 0);
        expect(whole.frames).toBe(expected);
      }),
    );
  });

  // lame, sox and mpg123 are installed by the test command (runtime/cli/ensure-deps.js): never skipped.
  it('counts the frames of an MP3 from lame as mpg123 decodes them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp3-test-'));
    try {
      const wav = join(dir, 'tone.wav');
      const mp3 = join(dir, 'tone.mp3');
      const run = (cmd: string, args: string[]): void => {
        const r = spawnSync(cmd, args, { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
      };
      run('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', wav, 'synth', '1.5', 'sine', '440']);
      run('lame', ['--quiet', '-b', '32', '-m', 'm', '--resample', '16', '--tt', 'tone', '--add-id3v2', wav, mp3]);
      const bytes = readFileSync(mp3);
      const parsed = parseChunks([bytes]);
      expect(parsed.id3).toBeGreaterThan(0);
      // Without gapless trimming and with the info frame left in, mpg123 decodes every frame.
      const decoded = spawnSync('mpg123', ['-q', '--no-gapless', '-s', mp3]);
      const samples = decoded.stdout.length / 2;
      expect(parsed.frames * 576).toBeGreaterThanOrEqual(samples);
      expect(parsed.frames * 576 - samples).toBeLessThanOrEqual(576);
      expect(parsed.durationMs).toBeGreaterThanOrEqual(1500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

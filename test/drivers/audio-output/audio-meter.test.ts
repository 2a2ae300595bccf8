import { audioMeter, parseWavHeader, skipAudio, wavHeader, type AudioFormat } from '../../../drivers/audio-output';
import { MP3_FRAME_BYTES, MP3_FRAME_MS, silentMp3 } from '../../avs-cloud/mp3';

/** Feeds the bytes in chunks of `size`; returns the ms reported chunk by chunk plus at the end. */
function measure(format: AudioFormat, bytes: Buffer, size: number): number {
  const meter = audioMeter(format);
  let ms = 0;
  for (let at = 0; at < bytes.length; at += size) ms += meter.push(bytes.subarray(at, at + size));
  ms += meter.end();
  expect(meter.durationMs).toBeCloseTo(ms, 6);
  return ms;
}

/** Runs the bytes through a skipper in chunks of `size`. */
function skip(format: AudioFormat, offsetMs: number, bytes: Buffer, size: number): Buffer {
  const skipper = skipAudio(format, offsetMs);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(skipper.push(bytes.subarray(at, at + size)));
  out.push(skipper.end());
  return Buffer.concat(out);
}

const pcm = (ms: number): Buffer => Buffer.from(Array.from({ length: ms * 32 }, (_, i) => i % 251));

describe('audioMeter', () => {
  it.each([1, 7, 144, 10_000])('measures MP3 by its frames (chunks of %i bytes)', (size) => {
    expect(measure('mp3', silentMp3(1000), size)).toBe(28 * MP3_FRAME_MS);
  });

  it.each([1, 33, 32_000])('measures pcm16k at 32,000 bytes a second (chunks of %i bytes)', (size) => {
    expect(measure('pcm16k', pcm(750), size)).toBeCloseTo(750, 6);
  });

  it.each([1, 5, 44, 4096])('measures WAV by the byte rate in its header (chunks of %i bytes)', (size) => {
    const data = Buffer.alloc(48_000 * 2 * 2 / 4);
    expect(measure('wav', Buffer.concat([wavHeader(48_000, 2, data.length), data]), size)).toBeCloseTo(250, 6);
  });

  it('takes bytes that are not a WAV file for headerless pcm16k', () => {
    expect(measure('wav', pcm(100), 10)).toBeCloseTo(100, 6);
  });
});

describe('parseWavHeader', () => {
  it('finds the data after other chunks, and asks for more bytes until then', () => {
    const header = wavHeader(16_000, 1, 0);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([5, 0, 0, 0]), Buffer.from('abcde'), Buffer.alloc(1)]);
    const withList = Buffer.concat([header.subarray(0, 36), list, header.subarray(36)]);
    for (let n = 0; n < withList.length; n++) expect(parseWavHeader(withList.subarray(0, n))).toBe('more');
    expect(parseWavHeader(withList)).toEqual({ dataStart: withList.length, sampleRate: 16_000, channels: 1, bitsPerSample: 16, byteRate: 32_000, blockAlign: 2 });
  });

  it('rejects what is not RIFF/WAVE, and a data chunk before the format', () => {
    expect(parseWavHeader(Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00'))).toBe('invalid');
    expect(parseWavHeader(Buffer.from('RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00'))).toBe('invalid');
  });
});

describe('skipAudio', () => {
  it.each([1, 100, 5000])('drops whole MP3 frames up to the offset (chunks of %i bytes)', (size) => {
    const mp3 = silentMp3(1000);
    expect(skip('mp3', 360, mp3, size)).toEqual(mp3.subarray(10 * MP3_FRAME_BYTES));
    // 361 ms is inside the 11th frame: that frame goes too.
    expect(skip('mp3', 361, mp3, size)).toEqual(mp3.subarray(11 * MP3_FRAME_BYTES));
  });

  it('passes nothing when the offset is past the end, everything at offset 0', () => {
    const mp3 = silentMp3(200);
    expect(skip('mp3', 5000, mp3, 50)).toHaveLength(0);
    expect(skip('mp3', 0, mp3, 50)).toEqual(mp3);
  });

  it('drops pcm16k samples up to the offset', () => {
    const audio = pcm(300);
    expect(skip('pcm16k', 100, audio, 7)).toEqual(audio.subarray(3200));
  });

  it('keeps the WAV header and drops the samples up to the offset', () => {
    const data = pcm(300);
    const header = wavHeader(16_000, 1, data.length);
    expect(skip('wav', 250, Buffer.concat([header, data]), 3)).toEqual(Buffer.concat([header, data.subarray(8000)]));
  });
});

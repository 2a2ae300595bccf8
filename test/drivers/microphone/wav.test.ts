import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MicrophoneError } from '../../../drivers/microphone/microphone';
import { looksLikeWav, parseWav } from '../../../drivers/microphone/wav';
import { chunk, fmtChunk, ramp, riff, wav } from './capture-helpers';

const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'audio', 'what-time-is-it.wav');

function badSource(bytes: Buffer): MicrophoneError {
  try {
    parseWav(bytes, 'mic.wav');
  } catch (error) {
    if (error instanceof MicrophoneError) return error;
    throw error;
  }
  throw new Error('parseWav accepted it');
}

describe('parseWav', () => {
  it('reads the samples of the spoken fixture, which stays small', () => {
    const pcm = parseWav(readFileSync(FIXTURE), FIXTURE);
    // soxi: 50,920 samples (3.18 s) after a 44-byte header.
    expect(pcm.length).toBe(50_920 * 2);
    expect(statSync(FIXTURE).size).toBeLessThan(150_000);
  });

  it('returns exactly the data chunk', () => {
    const pcm = ramp(1000);
    expect(parseWav(wav(pcm), 'mic.wav').equals(pcm)).toBe(true);
  });

  it('skips other chunks before and after fmt, odd-sized ones included', () => {
    const pcm = ramp(640);
    const bytes = riff(
      chunk('JUNK', Buffer.alloc(27, 7)),
      fmtChunk(),
      chunk('LIST', Buffer.from('INFOISFT\x05\x00\x00\x00espk\x00', 'latin1')),
      chunk('fact', Buffer.alloc(4)),
      chunk('data', pcm),
      chunk('LIST', Buffer.alloc(10)),
    );
    expect(parseWav(bytes, 'mic.wav').equals(pcm)).toBe(true);
  });

  it('accepts WAVE_FORMAT_EXTENSIBLE holding integer PCM', () => {
    const pcm = ramp(64);
    expect(parseWav(riff(fmtChunk({ subFormat: 1 }), chunk('data', pcm)), 'mic.wav').equals(pcm)).toBe(true);
  });

  it('takes what the file holds when the data size is a streaming placeholder', () => {
    const pcm = ramp(100);
    expect(parseWav(riff(fmtChunk(), chunk('data', pcm, 0x7ffff000)), 'mic.wav').equals(pcm)).toBe(true);
  });

  it.each([
    [{ sampleRate: 22_050 }, 'sample rate is 22050 Hz, not 16000 Hz'],
    [{ channels: 2 }, 'it has 2 channels, not 1 (mono)'],
    [{ bits: 8 }, 'samples are 8-bit, not 16-bit'],
    [{ formatTag: 3 }, 'encoding is IEEE float, format tag 3, not integer PCM (1)'],
    [{ subFormat: 7 }, 'encoding is µ-law, format tag 7, not integer PCM (1)'],
    [{ formatTag: 2 }, 'encoding is format tag 2, not integer PCM (1)'],
  ])('rejects %j as BAD_SOURCE naming what is wrong', (fmt, why) => {
    const error = badSource(wav(ramp(64), fmt));
    expect(error.code).toBe('BAD_SOURCE');
    expect(error.message).toBe(`mic.wav: ${why}; the microphone needs 16000 Hz, 16-bit, mono PCM`);
  });

  it('names every wrong property at once', () => {
    expect(badSource(wav(ramp(64), { sampleRate: 44_100, channels: 2, bits: 24 })).message).toBe(
      'mic.wav: sample rate is 44100 Hz, not 16000 Hz, samples are 24-bit, not 16-bit, it has 2 channels, not 1 (mono); ' +
        'the microphone needs 16000 Hz, 16-bit, mono PCM',
    );
  });

  it.each([
    ['bytes with no RIFF/WAVE header', ramp(64), 'mic.wav: not a WAV file (no RIFF/WAVE header)'],
    ['no fmt chunk', riff(chunk('LIST', Buffer.alloc(4))), 'mic.wav: no fmt chunk'],
    ['no data chunk', riff(fmtChunk()), 'mic.wav: no data chunk'],
    ['data before fmt', riff(chunk('data', ramp(8)), fmtChunk()), 'mic.wav: the data chunk comes before the fmt chunk'],
    ['a truncated chunk', riff(fmtChunk(), chunk('LIST', Buffer.alloc(4), 400)), 'mic.wav: truncated "LIST" chunk (400 bytes, 4 left)'],
    ['a short fmt chunk', riff(chunk('fmt ', Buffer.alloc(8)), chunk('data', ramp(8))), 'mic.wav: truncated fmt chunk (8 bytes)'],
  ])('rejects %s', (_what, bytes, message) => {
    const error = badSource(bytes);
    expect(error.code).toBe('BAD_SOURCE');
    expect(error.message).toBe(message);
  });

  it('tells WAV bytes from raw PCM by the header', () => {
    expect(looksLikeWav(wav(ramp(4)))).toBe(true);
    expect(looksLikeWav(ramp(64))).toBe(false);
    expect(looksLikeWav(Buffer.from('RIFF'))).toBe(false);
  });
});

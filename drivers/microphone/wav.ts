// Reads the PCM out of a WAV file that holds what the microphone delivers (16 kHz, 16-bit, mono),
// and says exactly what is wrong with one that does not.
import { MicrophoneError, SAMPLE_RATE } from './microphone';

const PCM = 1;
/** WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the SubFormat GUID. */
const EXTENSIBLE = 0xfffe;

/** The other tags sound tools commonly write, so the message can say what the file is. */
const ENCODINGS: Readonly<Record<number, string>> = { 3: 'IEEE float', 6: 'A-law', 7: 'µ-law', 0x55: 'MP3' };

interface Format {
  readonly audioFormat: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
}

/** True when the bytes start like a WAV file (RIFF … WAVE). */
export function looksLikeWav(bytes: Buffer): boolean {
  return bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WAVE';
}

/**
 * The samples of the `data` chunk, as a view into `bytes`. Chunks other than `fmt ` and `data`
 * (LIST, fact, cue …) are skipped, wherever they sit. `name` is how messages refer to the source.
 */
export function parseWav(bytes: Buffer, name: string): Buffer {
  const bad = (why: string) => new MicrophoneError('BAD_SOURCE', `${name}: ${why}`);
  if (!looksLikeWav(bytes)) throw bad('not a WAV file (no RIFF/WAVE header)');

  let format: Format | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('latin1', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > bytes.length) throw bad(`truncated fmt chunk (${size} bytes)`);
      format = readFormat(bytes, body, size);
      const wrong = describeWrongFormat(format);
      if (wrong.length > 0) {
        throw bad(`${wrong.join(', ')}; the microphone needs ${SAMPLE_RATE} Hz, 16-bit, mono PCM`);
      }
    } else if (id === 'data') {
      if (format === undefined) throw bad('the data chunk comes before the fmt chunk');
      // A writer streaming to a pipe cannot seek back to fill in the size, so it leaves a
      // placeholder larger than the file (sox: 0x7FFFF000, others 0xFFFFFFFF): take what the file
      // holds, in whole samples.
      const end = Math.min(body + size, bytes.length);
      return bytes.subarray(body, body + ((end - body) & ~1));
    } else if (body + size > bytes.length) {
      throw bad(`truncated ${JSON.stringify(id)} chunk (${size} bytes, ${bytes.length - body} left)`);
    }
    // RIFF pads every chunk to an even length.
    offset = body + size + (size & 1);
  }
  throw bad(format === undefined ? 'no fmt chunk' : 'no data chunk');
}

function readFormat(bytes: Buffer, body: number, size: number): Format {
  let audioFormat = bytes.readUInt16LE(body);
  if (audioFormat === EXTENSIBLE && size >= 40) audioFormat = bytes.readUInt16LE(body + 24);
  return {
    audioFormat,
    channels: bytes.readUInt16LE(body + 2),
    sampleRate: bytes.readUInt32LE(body + 4),
    bitsPerSample: bytes.readUInt16LE(body + 14),
  };
}

function describeWrongFormat(f: Format): string[] {
  const wrong: string[] = [];
  if (f.audioFormat !== PCM) {
    const known = ENCODINGS[f.audioFormat];
    wrong.push(`encoding is ${known === undefined ? '' : `${known}, `}format tag ${f.audioFormat}, not integer PCM (1)`);
  }
  if (f.sampleRate !== SAMPLE_RATE) wrong.push(`sample rate is ${f.sampleRate} Hz, not ${SAMPLE_RATE} Hz`);
  if (f.bitsPerSample !== 16) wrong.push(`samples are ${f.bitsPerSample}-bit, not 16-bit`);
  if (f.channels !== 1) wrong.push(`it has ${f.channels} channels, not 1 (mono)`);
  return wrong;
}


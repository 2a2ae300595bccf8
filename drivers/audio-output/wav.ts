// The RIFF/WAVE header in front of PCM audio: where the samples start and how many bytes a second
// they take, read from bytes as they arrive (a streamed WAV often gives a data size of 0 or ~4 GB,
// so the size is not trusted: the data runs to the end of the stream).

export interface WavHeader {
  /** Byte position of the first sample. */
  readonly dataStart: number;
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitsPerSample: number;
  readonly byteRate: number;
  /** Bytes of one sample frame (all channels). */
  readonly blockAlign: number;
}

/** A header larger than this is taken for something that is not a WAV file. */
const MAX_HEADER_BYTES = 64 * 1024;

const ascii = (bytes: Uint8Array, at: number): string => Buffer.from(bytes.subarray(at, at + 4)).toString('latin1');

/** The header at the start of `bytes`; 'more' when more bytes are needed, 'invalid' when it is not a usable WAV header. */
export function parseWavHeader(bytes: Uint8Array): WavHeader | 'more' | 'invalid' {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12) return 'RIFF'.startsWith(ascii(buf, 0).slice(0, buf.length)) ? 'more' : 'invalid';
  if (ascii(buf, 0) !== 'RIFF' || ascii(buf, 8) !== 'WAVE') return 'invalid';
  let fmt: Omit<WavHeader, 'dataStart'> | undefined;
  let at = 12;
  for (;;) {
    if (at > MAX_HEADER_BYTES) return 'invalid';
    if (at + 8 > buf.length) return 'more';
    const id = ascii(buf, at);
    const size = buf.readUInt32LE(at + 4);
    if (id === 'data') {
      if (fmt === undefined) return 'invalid';
      return { ...fmt, dataStart: at + 8 };
    }
    if (id === 'fmt ') {
      if (at + 8 + 16 > buf.length) return 'more';
      const channels = buf.readUInt16LE(at + 10);
      const sampleRate = buf.readUInt32LE(at + 12);
      const byteRate = buf.readUInt32LE(at + 16);
      const blockAlign = buf.readUInt16LE(at + 20);
      const bitsPerSample = buf.readUInt16LE(at + 22);
      if (channels === 0 || byteRate === 0 || blockAlign === 0) return 'invalid';
      fmt = { sampleRate, channels, bitsPerSample, byteRate, blockAlign };
    }
    // Chunks are padded to an even size.
    at += 8 + size + (size % 2);
  }
}

/** A 44-byte header for 16-bit PCM of `dataBytes` bytes (tests and fixtures). */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

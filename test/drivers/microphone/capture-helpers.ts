// Building WAV bytes and reading captures, for the microphone tests.
import type { Readable } from 'node:stream';

/** `bytes` of s16le PCM whose samples count 1, 2, 3 …: never zero, so silence and order both show. */
export function ramp(bytes: number): Buffer {
  const pcm = Buffer.alloc(bytes);
  for (let i = 0; i + 1 < bytes; i += 2) pcm.writeUInt16LE(((i / 2) % 65535) + 1, i);
  return pcm;
}

/** One RIFF chunk, padded to an even length as RIFF requires. */
export function chunk(id: string, body: Buffer, declaredSize = body.length): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(declaredSize, 4);
  return Buffer.concat([header, body, Buffer.alloc(body.length % 2)]);
}

export interface FmtSpec {
  readonly formatTag?: number;
  readonly sampleRate?: number;
  readonly channels?: number;
  readonly bits?: number;
  /** Makes it a WAVE_FORMAT_EXTENSIBLE chunk whose SubFormat starts with this tag. */
  readonly subFormat?: number;
}

export function fmtChunk({ formatTag = 1, sampleRate = 16_000, channels = 1, bits = 16, subFormat }: FmtSpec = {}): Buffer {
  const body = Buffer.alloc(subFormat === undefined ? 16 : 40);
  const blockAlign = (channels * bits) / 8;
  body.writeUInt16LE(subFormat === undefined ? formatTag : 0xfffe, 0);
  body.writeUInt16LE(channels, 2);
  body.writeUInt32LE(sampleRate, 4);
  body.writeUInt32LE(sampleRate * blockAlign, 8);
  body.writeUInt16LE(blockAlign, 12);
  body.writeUInt16LE(bits, 14);
  if (subFormat !== undefined) {
    body.writeUInt16LE(22, 16);
    body.writeUInt16LE(bits, 18);
    body.writeUInt16LE(subFormat, 24);
  }
  return chunk('fmt ', body);
}

export function riff(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat(chunks);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + body.length, 4);
  header.write('WAVE', 8, 'latin1');
  return Buffer.concat([header, body]);
}

/** A WAV file of `pcm` in the format the microphone needs, unless `fmt` says otherwise. */
export function wav(pcm: Buffer, fmt: FmtSpec = {}): Buffer {
  return riff(fmtChunk(fmt), chunk('data', pcm));
}

/** Every chunk the stream delivers, once it has ended. */
export function collect(stream: Readable): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(chunks));
    stream.once('error', reject);
    stream.resume();
  });
}

/** The error the stream fails with; rejects if it ends instead. */
export function failureOf(stream: Readable): Promise<unknown> {
  return new Promise((resolve, reject) => {
    stream.once('error', resolve);
    stream.once('end', () => reject(new Error('the stream ended instead of failing')));
    stream.resume();
  });
}

/** Lets nextTick and I/O callbacks run (setImmediate is left real under fake timers). */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Opening a microphone again ends the capture in progress; the new one stops on stop(). */
export async function expectReopenStopsPrevious(mic: { open(): { stream: Readable; stop(): void } }): Promise<void> {
  const first = mic.open();
  const firstEnded = collect(first.stream);
  const second = mic.open();
  await firstEnded;
  second.stop();
  await collect(second.stream);
}

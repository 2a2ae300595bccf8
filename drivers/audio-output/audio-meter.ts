// How many ms of audio the bytes of a stream hold, as they arrive, for each AudioFormat: MP3 by
// its frames, pcm16k at 32,000 bytes a second, WAV by the byte rate in its header.
import type { AudioFormat } from './output';
import { Mp3Parser } from './mp3';
import { parseWavHeader, type WavHeader } from './wav';

/** PROTOCOL.md §1.4: 16 kHz, 16-bit, mono. */
export const PCM16K_BYTES_PER_SECOND = 32_000;

export interface AudioMeter {
  /** Adds bytes; returns the ms of audio they complete. */
  push(chunk: Uint8Array): number;
  /** No more bytes; returns the ms of audio that completes (the last MP3 frame may wait for this). */
  end(): number;
  /** Ms of audio so far. */
  readonly durationMs: number;
}

class PcmMeter implements AudioMeter {
  private bytes = 0;
  constructor(private readonly bytesPerSecond: number) {}
  get durationMs(): number {
    return (this.bytes * 1000) / this.bytesPerSecond;
  }
  push(chunk: Uint8Array): number {
    const before = this.durationMs;
    this.bytes += chunk.length;
    return this.durationMs - before;
  }
  end(): number {
    return 0;
  }
}

class Mp3Meter implements AudioMeter {
  private readonly parser = new Mp3Parser();
  get durationMs(): number {
    return this.parser.durationMs;
  }
  push(chunk: Uint8Array): number {
    return this.parser.push(chunk).reduce((ms, f) => ms + f.durationMs, 0);
  }
  end(): number {
    return this.parser.end().reduce((ms, f) => ms + f.durationMs, 0);
  }
}

/** Counts the header out, then the samples; bytes that are not a WAV file count as headerless pcm16k. */
class WavMeter implements AudioMeter {
  private head: Buffer = Buffer.alloc(0);
  private pcm: PcmMeter | undefined;
  get durationMs(): number {
    return this.pcm?.durationMs ?? 0;
  }
  push(chunk: Uint8Array): number {
    if (this.pcm !== undefined) return this.pcm.push(chunk);
    this.head = Buffer.concat([this.head, chunk]);
    const header: WavHeader | 'more' | 'invalid' = parseWavHeader(this.head);
    if (header === 'more') return 0;
    this.pcm = new PcmMeter(header === 'invalid' ? PCM16K_BYTES_PER_SECOND : header.byteRate);
    const samples = header === 'invalid' ? this.head : this.head.subarray(header.dataStart);
    this.head = Buffer.alloc(0);
    return this.pcm.push(samples);
  }
  end(): number {
    return 0;
  }
}

export function audioMeter(format: AudioFormat): AudioMeter {
  switch (format) {
    case 'mp3':
      return new Mp3Meter();
    case 'pcm16k':
      return new PcmMeter(PCM16K_BYTES_PER_SECOND);
    case 'wav':
      return new WavMeter();
  }
}

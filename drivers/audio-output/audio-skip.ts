// Starting part-way into a stream (PROTOCOL.md §8.3 offsetInMilliseconds): drops the first ms of
// audio before a player sees the bytes, on a frame (MP3) or sample (PCM, WAV) boundary, keeping
// the WAV header so the player still knows the format.
import { PCM16K_BYTES_PER_SECOND } from './audio-meter';
import type { AudioFormat } from './output';
import { Mp3Parser } from './mp3';
import { parseWavHeader } from './wav';

export interface AudioSkipper {
  /** Adds bytes; returns those to pass on (possibly none). */
  push(chunk: Buffer): Buffer;
  /** No more bytes; returns what is still to pass on. */
  end(): Buffer;
}

const EMPTY = Buffer.alloc(0);

const passThrough = (): AudioSkipper => ({ push: (chunk) => chunk, end: () => EMPTY });

/** Drops the first `count` bytes. */
function skipBytes(count: number): AudioSkipper {
  let left = count;
  return {
    push(chunk) {
      if (left === 0) return chunk;
      const n = Math.min(left, chunk.length);
      left -= n;
      return chunk.subarray(n);
    },
    end: () => EMPTY,
  };
}

/** Passes the header, then drops `offsetMs` of samples; bytes that are not a WAV file are taken for pcm16k. */
function skipWav(offsetMs: number): AudioSkipper {
  let head: Buffer = EMPTY;
  let body: AudioSkipper | undefined;
  return {
    push(chunk) {
      if (body !== undefined) return body.push(chunk);
      head = Buffer.concat([head, chunk]);
      const header = parseWavHeader(head);
      if (header === 'more') return EMPTY;
      const all = head;
      head = EMPTY;
      if (header === 'invalid') {
        body = skipBytes(pcmBytes(offsetMs, PCM16K_BYTES_PER_SECOND, 2));
        return body.push(all);
      }
      body = skipBytes(pcmBytes(offsetMs, header.byteRate, header.blockAlign));
      return Buffer.concat([all.subarray(0, header.dataStart), body.push(all.subarray(header.dataStart))]);
    },
    // A header that never completed is passed on as it is, for the player to judge.
    end: () => (body === undefined ? head : EMPTY),
  };
}

const pcmBytes = (ms: number, bytesPerSecond: number, blockAlign: number): number =>
  Math.round((ms * bytesPerSecond) / 1000 / blockAlign) * blockAlign;

/** Drops whole frames until the next one starts at or after `offsetMs`; tags and garbage before it go too. */
function skipMp3(offsetMs: number): AudioSkipper {
  const parser = new Mp3Parser();
  let held: Buffer = EMPTY;
  /** Stream position of held[0]. */
  let heldAt = 0;
  let skippedMs = 0;
  let cut = false;
  return {
    push(chunk) {
      if (cut) return chunk;
      held = Buffer.concat([held, chunk]);
      let keepFrom = heldAt;
      for (const frame of parser.push(chunk)) {
        if (skippedMs >= offsetMs) {
          cut = true;
          const out = held.subarray(frame.position - heldAt);
          held = EMPTY;
          return out;
        }
        skippedMs += frame.durationMs;
        keepFrom = frame.position + frame.length;
      }
      // Frames already skipped need not be held.
      held = held.subarray(keepFrom - heldAt);
      heldAt = keepFrom;
      return EMPTY;
    },
    end() {
      if (cut) return EMPTY;
      for (const frame of parser.end()) {
        if (skippedMs >= offsetMs) return held.subarray(frame.position - heldAt);
        skippedMs += frame.durationMs;
      }
      return EMPTY;
    },
  };
}

export function skipAudio(format: AudioFormat, offsetMs: number): AudioSkipper {
  if (!(offsetMs > 0)) return passThrough();
  switch (format) {
    case 'mp3':
      return skipMp3(offsetMs);
    case 'pcm16k':
      return skipBytes(pcmBytes(offsetMs, PCM16K_BYTES_PER_SECOND, 2));
    case 'wav':
      return skipWav(offsetMs);
  }
}

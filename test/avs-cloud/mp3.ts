// Silent MP3 the simulator makes itself, for Speak attachments (PROTOCOL.md §6.3: AUDIO_MPEG) and
// AudioPlayer URLs (§8.3). Every frame is the same 144 bytes: MPEG-2 Layer III, 16 kHz, mono,
// 32 kbit/s, no CRC (header FF F3 48 C0), and a zeroed side info and main data — which decodes to
// 576 samples (36 ms) of silence. A decoder (mpg123, the SDK's player) takes it as valid audio.

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

// The device's built-in alert sounds (PROTOCOL.md §7.3: played when a SetAlert has no usable
// assets, or an asset fails at alert time). Synthesized here rather than shipped as files, so the
// device needs nothing downloaded or licensed to ring offline (§7: alerts must sound without a
// connection). Each sound is one loop that the alert player repeats.
import type { AlertType } from '../../machines/alerts/messages';
import { wavHeader } from '../../drivers/audio-output/wav';

export type AlertSoundMode = 'foreground' | 'background';

/** The format every built-in sound has: 16 kHz, 16-bit, mono PCM in a WAV file (the pcm16k the outputs play). */
export const ALERT_SOUND_SAMPLE_RATE = 16_000;

/** §7.6: in the background the short sound repeats with this pause between repetitions (SDK). */
export const BACKGROUND_REPEAT_PAUSE_MS = 10_000;

/** Short ramps at each tone's edges: a tone starting or stopping mid-wave clicks audibly. */
const FADE_MS = 5;
/** Headroom: loud enough to wake someone, well short of clipping on a small speaker. */
const MAX_AMPLITUDE = 0.5;

const samplesFor = (ms: number): number => Math.round((ms * ALERT_SOUND_SAMPLE_RATE) / 1000);

/** Mono float samples in -1..1, to be written out once as 16-bit PCM. */
class Track {
  readonly samples: Float64Array;

  constructor(durationMs: number) {
    this.samples = new Float64Array(samplesFor(durationMs));
  }

  /**
   * Adds a sine tone from `atMs` for `durationMs`, faded in and out; `decayMs` (a time constant)
   * makes it die away like a struck bell instead of holding its level.
   */
  tone(atMs: number, durationMs: number, hz: number, amplitude: number, decayMs?: number): this {
    const start = samplesFor(atMs);
    const length = samplesFor(durationMs);
    const fade = samplesFor(FADE_MS);
    for (let i = 0; i < length && start + i < this.samples.length; i++) {
      const t = i / ALERT_SOUND_SAMPLE_RATE;
      // Raised cosine: smooth in slope too, so the ramp itself adds no click.
      const edge = Math.min(i, length - 1 - i);
      const ramp = edge >= fade ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / fade);
      const decay = decayMs === undefined ? 1 : Math.exp((-t * 1000) / decayMs);
      this.samples[start + i] += amplitude * ramp * decay * Math.sin(2 * Math.PI * hz * t);
    }
    return this;
  }

  wav(): Buffer {
    // Clamped after rounding: 0.5 × 32767 would round up past the ceiling.
    const ceiling = Math.floor(MAX_AMPLITUDE * 32767);
    const pcm = Buffer.alloc(this.samples.length * 2);
    for (let i = 0; i < this.samples.length; i++) {
      pcm.writeInt16LE(Math.max(-ceiling, Math.min(ceiling, Math.round(this.samples[i] * 32767))), i * 2);
    }
    return Buffer.concat([wavHeader(ALERT_SOUND_SAMPLE_RATE, 1, pcm.length), pcm]);
  }
}

/** Four quick beeps, then quiet: the familiar kitchen-timer pattern, 2 s a loop. */
function timer(): Buffer {
  const track = new Track(2000);
  for (let beep = 0; beep < 4; beep++) track.tone(beep * 220, 120, 880, MAX_AMPLITUDE);
  return track.wav();
}

/** Low-high pairs whose pitch climbs over the loop, so it sounds more urgent the longer it rings; 2 s a loop. */
function alarm(): Buffer {
  const track = new Track(2000);
  const pairs: ReadonlyArray<readonly [number, number]> = [
    [587.33, 783.99], // D5 G5
    [659.25, 880.0], // E5 A5
    [739.99, 987.77], // F#5 B5
    [783.99, 1046.5], // G5 C6
  ];
  pairs.forEach(([low, high], n) => {
    track.tone(n * 500, 200, low, MAX_AMPLITUDE);
    track.tone(n * 500 + 230, 200, high, MAX_AMPLITUDE);
  });
  return track.wav();
}

/**
 * A soft two-note chime (E5 then C5) that dies away, 2.5 s a loop. The notes overlap, so each is
 * at most half the ceiling and their sum cannot clip.
 */
function reminder(): Buffer {
  const track = new Track(2500);
  track.tone(0, 1200, 659.25, 0.25, 350);
  track.tone(400, 1500, 523.25, 0.25, 400);
  return track.wav();
}

/** §7.6: the short, softer version played in the background — one quiet beep in the type's voice. */
function background(type: AlertType): Buffer {
  const hz: Record<AlertType, number> = { TIMER: 880, ALARM: 783.99, REMINDER: 659.25 };
  return new Track(300).tone(0, 300, hz[type], 0.2, type === 'REMINDER' ? 150 : undefined).wav();
}

const foreground: Record<AlertType, () => Buffer> = { TIMER: timer, ALARM: alarm, REMINDER: reminder };

const cache = new Map<string, Buffer>();

/**
 * The built-in sound for an alert type, as a complete WAV file: one loop to repeat in the
 * foreground, or the short tone to repeat every BACKGROUND_REPEAT_PAUSE_MS in the background.
 * Made once and shared: callers must not write into the buffer.
 */
export function alertSound(type: AlertType, mode: AlertSoundMode): Buffer {
  const key = `${type}/${mode}`;
  let sound = cache.get(key);
  if (sound === undefined) {
    sound = mode === 'foreground' ? foreground[type]() : background(type);
    cache.set(key, sound);
  }
  return sound;
}

// The built-in alert sounds (§7.3 fallback, §7.6 background version): well-formed WAV files a
// player and sox accept, of the intended length and loudness, without clicks.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALERT_SOUND_SAMPLE_RATE, BACKGROUND_REPEAT_PAUSE_MS, alertSound, type AlertSoundMode } from '../../../runtime/device/alert-sounds';

const TYPES = ['TIMER', 'ALARM', 'REMINDER'] as const;
const MODES: readonly AlertSoundMode[] = ['foreground', 'background'];
const ALL = TYPES.flatMap((type) => MODES.map((mode) => ({ type, mode, wav: alertSound(type, mode) })));
const FULL_SCALE = 32767;

/** Reads the 44-byte header the hard way, field by field, so the test does not trust the code it checks. */
function header(wav: Buffer) {
  return {
    riff: wav.toString('latin1', 0, 4),
    riffSize: wav.readUInt32LE(4),
    wave: wav.toString('latin1', 8, 12),
    fmt: wav.toString('latin1', 12, 16),
    fmtSize: wav.readUInt32LE(16),
    format: wav.readUInt16LE(20),
    channels: wav.readUInt16LE(22),
    sampleRate: wav.readUInt32LE(24),
    byteRate: wav.readUInt32LE(28),
    blockAlign: wav.readUInt16LE(32),
    bitsPerSample: wav.readUInt16LE(34),
    data: wav.toString('latin1', 36, 40),
    dataSize: wav.readUInt32LE(40),
  };
}

function samples(wav: Buffer): Int16Array {
  const pcm = wav.subarray(44);
  const out = new Int16Array(pcm.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = pcm.readInt16LE(i * 2);
  return out;
}

const durationMs = (wav: Buffer): number => (samples(wav).length * 1000) / ALERT_SOUND_SAMPLE_RATE;
const peak = (s: Int16Array): number => s.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / FULL_SCALE;

describe('alertSound', () => {
  it.each(ALL)('is a 16 kHz 16-bit mono PCM WAV file whose sizes match its data ($type $mode)', ({ wav }) => {
    expect(header(wav)).toEqual({
      riff: 'RIFF',
      riffSize: wav.length - 8,
      wave: 'WAVE',
      fmt: 'fmt ',
      fmtSize: 16,
      format: 1,
      channels: 1,
      sampleRate: 16_000,
      byteRate: 32_000,
      blockAlign: 2,
      bitsPerSample: 16,
      data: 'data',
      dataSize: wav.length - 44,
    });
    expect(wav.length % 2).toBe(0);
  });

  it('plays a loop of about two seconds in the foreground', () => {
    expect(durationMs(alertSound('TIMER', 'foreground'))).toBe(2000);
    expect(durationMs(alertSound('ALARM', 'foreground'))).toBe(2000);
    const chime = durationMs(alertSound('REMINDER', 'foreground'));
    expect(chime).toBeGreaterThanOrEqual(1500);
    expect(chime).toBeLessThanOrEqual(3000);
  });

  it('plays one short tone in the background, repeated after a 10 s pause (§7.6)', () => {
    for (const type of TYPES) expect(durationMs(alertSound(type, 'background'))).toBe(300);
    expect(BACKGROUND_REPEAT_PAUSE_MS).toBe(10_000);
  });

  it.each(ALL)('stays at or below half full scale and is clearly audible ($type $mode)', ({ wav }) => {
    const p = peak(samples(wav));
    expect(p).toBeLessThanOrEqual(0.5);
    expect(p).toBeGreaterThan(0.1);
  });

  it('is softer in the background than in the foreground', () => {
    for (const type of TYPES) expect(peak(samples(alertSound(type, 'background')))).toBeLessThan(peak(samples(alertSound(type, 'foreground'))));
  });

  it('sounds different for each type and mode', () => {
    for (let i = 0; i < ALL.length; i++)
      for (let j = i + 1; j < ALL.length; j++) expect(ALL[i].wav.equals(ALL[j].wav)).toBe(false);
  });

  it('has silence in the timer loop after its four beeps', () => {
    const s = samples(alertSound('TIMER', 'foreground'));
    const beeps = [...s.keys()].filter((i) => Math.abs(s[i]) > 0.05 * FULL_SCALE);
    expect(beeps.length).toBeGreaterThan(0);
    // The last beep ends before the first second is over; the rest of the loop is quiet.
    expect(Math.max(...beeps)).toBeLessThan(ALERT_SOUND_SAMPLE_RATE);
    // Four separate beeps: count the quiet-to-loud onsets (gaps longer than 20 ms).
    const onsets = beeps.filter((i, n) => n === 0 || i - beeps[n - 1] > ALERT_SOUND_SAMPLE_RATE / 50);
    expect(onsets).toHaveLength(4);
  });

  it.each(ALL)('fades in and out, starting and ending near zero ($type $mode)', ({ wav }) => {
    const s = samples(wav);
    const oneMs = ALERT_SOUND_SAMPLE_RATE / 1000;
    expect(peak(s.subarray(0, oneMs))).toBeLessThan(0.05);
    expect(peak(s.subarray(s.length - oneMs))).toBeLessThan(0.05);
    expect(Math.abs(s[0])).toBeLessThanOrEqual(1);
    expect(Math.abs(s[s.length - 1])).toBeLessThanOrEqual(1);
  });

  it.each(ALL)('has no clicks: no step between samples larger than a 1.1 kHz sine at the ceiling makes ($type $mode)', ({ wav }) => {
    const s = samples(wav);
    const limit = 2 * Math.PI * (1100 / ALERT_SOUND_SAMPLE_RATE) * 0.5 * FULL_SCALE;
    let largest = 0;
    for (let i = 1; i < s.length; i++) largest = Math.max(largest, Math.abs(s[i] - s[i - 1]));
    expect(largest).toBeLessThan(limit);
  });

  it('is made once and then shared', () => {
    expect(alertSound('ALARM', 'foreground')).toBe(alertSound('ALARM', 'foreground'));
  });

  // sox is installed by the test command (runtime/cli/ensure-deps.js): never skipped.
  it.each(ALL)('is read by sox as 16 kHz mono 16-bit of the right length ($type $mode)', ({ type, mode, wav }) => {
    const dir = mkdtempSync(join(tmpdir(), 'avs-alert-sound-'));
    try {
      const file = join(dir, `${type}-${mode}.wav`);
      writeFileSync(file, wav);
      const info = (flag: string): string => {
        const r = spawnSync('soxi', [flag, file], { encoding: 'utf8' });
        expect(r.status).toBe(0);
        return r.stdout.trim();
      };
      expect(info('-r')).toBe('16000');
      expect(info('-c')).toBe('1');
      expect(info('-b')).toBe('16');
      expect(info('-e')).toBe('Signed Integer PCM');
      expect(Number(info('-s'))).toBe((wav.length - 44) / 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The command line of each recorder, built here rather than by node-record-lpcm16's own
// recorders/: those take no effects (we need sox's `gain`), drop the device for rec, and give
// arecord no environment. The library still spawns the command and streams its output.
import type { RecorderCommand } from 'node-record-lpcm16';

export type RecorderProgram = 'sox' | 'rec' | 'arecord';

/** The Debian package each recorder comes in, for the message when it is missing. */
export const RECORDER_PACKAGES: Readonly<Record<RecorderProgram, string>> = {
  sox: 'sox',
  rec: 'sox',
  arecord: 'alsa-utils',
};

export interface RecorderSettings {
  readonly program: RecorderProgram;
  readonly sampleRate: number;
  readonly channels: number;
  readonly device?: string;
  /** dB; sox and rec only. */
  readonly gain?: number;
  /** sox's silence effect, the way node-record-lpcm16 writes it; sox and rec only. */
  readonly endOnSilence: boolean;
  /** Percent of full scale. */
  readonly threshold: number;
  /** Seconds under the threshold that end the capture. */
  readonly silence: number;
  /**
   * Variables over process.env. Only these, not the whole environment, travel in the library's
   * options, which it prints when DEBUG=record is set.
   */
  readonly env: Readonly<Record<string, string>>;
}

export function recorderCommand(s: RecorderSettings): RecorderCommand {
  const env = { ...process.env, ...s.env };
  if (s.program === 'arecord') {
    const device = s.device === undefined ? [] : ['-D', s.device];
    const args = [...device, '-q', '-r', String(s.sampleRate), '-c', String(s.channels), '-t', 'raw', '-f', 'S16_LE', '-'];
    return { cmd: 'arecord', args, spawnOptions: { env } };
  }
  // sox and rec read the device from AUDIODEV, for whichever audio driver they use.
  if (s.device !== undefined) env.AUDIODEV = s.device;
  // Options before `-` describe the output, so sox converts whatever the device gives into it.
  const output =
    s.program === 'sox'
      ? ['--default-device', '--no-show-progress', '--rate', String(s.sampleRate), '--channels', String(s.channels)]
      : ['-q', '-r', String(s.sampleRate), '-c', String(s.channels)];
  const format = ['--encoding', 'signed-integer', '--bits', '16', '--type', 'raw', '-'];
  // Gain first, so the silence threshold applies to the audio as delivered.
  const gain = s.gain === undefined ? [] : ['gain', String(s.gain)];
  const threshold = `${s.threshold}%`;
  const silence = s.endOnSilence ? ['silence', '1', '0.1', threshold, '1', String(s.silence), threshold] : [];
  return { cmd: s.program, args: [...output, ...format, ...gain, ...silence], spawnOptions: { env } };
}

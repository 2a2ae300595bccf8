// The real microphone: sox, rec or arecord capturing from a sound card, through node-record-lpcm16,
// always as 16 kHz mono raw s16le (PROTOCOL.md §1.4).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { record, type Recording } from 'node-record-lpcm16';
import { messageOf } from './message-of';
import { type Capture, type Microphone, MicrophoneError, SAMPLE_RATE } from './microphone';
import { RECORDER_PACKAGES, type RecorderProgram, type RecorderSettings } from './recorder-command';

/**
 * The library loads `path.resolve(its recorders folder, recorder)`, so an absolute path reaches our
 * own module. No extension: require finds the .ts under tsx and jest, the .js once compiled.
 */
const RECORDER_MODULE = join(__dirname, 'lpcm16-recorder');

export interface Lpcm16MicrophoneOptions {
  /** The program that captures: `sox` (the default), `rec`, or `arecord` (ALSA only). */
  readonly recorder?: RecorderProgram;
  /**
   * The capture device: for sox and rec the AUDIODEV of their audio driver (ALSA: `hw:1,0`,
   * `plughw:1`, `null`), for arecord its `-D`. By default the system's default device.
   */
  readonly device?: string;
  /** Amplification in dB, negative to attenuate (sox's `gain` effect); sox and rec only. */
  readonly gain?: number;
  /** End the capture by itself after `silence` seconds quieter than `threshold`; sox and rec only. */
  readonly endOnSilence?: boolean;
  /** Percent of full scale under which audio counts as silence (default 0.5). */
  readonly threshold?: number;
  /** Seconds of silence that end the capture (default 1). */
  readonly silence?: number;
  /**
   * Variables for the recorder over process.env, e.g. `{ AUDIODRIVER: 'alsa' }` to choose sox's
   * driver. A PATH here is where the recorder is looked for.
   */
  readonly env?: Readonly<Record<string, string>>;
}

export class Lpcm16Microphone implements Microphone {
  private readonly settings: RecorderSettings;
  private current: Capture | undefined;

  constructor(options: Lpcm16MicrophoneOptions = {}) {
    const program = options.recorder ?? 'sox';
    if (program === 'arecord' && (options.gain !== undefined || options.endOnSilence === true)) {
      throw new RangeError('gain and endOnSilence are sox effects: use recorder sox or rec, not arecord');
    }
    this.settings = {
      program,
      sampleRate: SAMPLE_RATE,
      channels: 1,
      device: options.device,
      gain: options.gain,
      endOnSilence: options.endOnSilence ?? false,
      threshold: options.threshold ?? 0.5,
      silence: options.silence ?? 1,
      env: options.env ?? {},
    };
  }

  /** Throws PROGRAM_MISSING when the recorder is not on PATH; a recorder that then fails errors the stream (CAPTURE_FAILED). */
  open(): Capture {
    // One capture at a time: two recorders would fight over the device. The old one is only
    // signalled here, so a device that allows one reader may still be busy for a moment, and the
    // new capture then fails with CAPTURE_FAILED rather than hanging.
    this.current?.stop();
    const { program, env } = this.settings;
    if (!isOnPath(program, { ...process.env, ...env })) {
      throw new MicrophoneError('PROGRAM_MISSING', `${program} is not installed: apt-get install ${RECORDER_PACKAGES[program]}`);
    }
    let recording: Recording;
    try {
      recording = record({ ...this.settings, recorder: RECORDER_MODULE, audioType: 'raw' });
    } catch (error) {
      throw new MicrophoneError('CAPTURE_FAILED', `${program} did not start: ${messageOf(error)}`);
    }
    this.current = new RecorderCapture(program, recording);
    return this.current;
  }
}

function isOnPath(program: string, env: NodeJS.ProcessEnv): boolean {
  // The shell's own lookup, over the PATH the recorder will be spawned with; /bin/sh by absolute
  // path, so that a PATH without /bin still gets an answer.
  return spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', program], { env, stdio: 'ignore' }).status === 0;
}

class RecorderCapture implements Capture {
  readonly stream = new PassThrough();
  private stopped = false;
  private done = false;
  private stderr = '';
  private libraryError: string | undefined;

  constructor(
    private readonly program: RecorderProgram,
    private readonly recording: Recording,
  ) {
    const child = recording.process;
    const output = recording.stream();
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4096);
    });
    // The library emits a failed exit as a string 'error' on the output; unheard, it would crash.
    output.on('error', (error: unknown) => {
      this.libraryError ??= messageOf(error);
    });
    // A spawn that fails (the program vanished since the PATH check) is reported on the child,
    // which the library does not listen to.
    child.on('error', (error) => {
      this.libraryError ??= error.message;
      // Node 20 follows a failed spawn with 'close', but does not promise to.
      if (child.pid === undefined) this.settle('it did not start');
    });
    // The output ends with the recorder, not before: a failure must reach the reader as an error,
    // not as an end it cannot tell from stop().
    output.pipe(this.stream, { end: false });
    // 'close' comes once stdout has ended and all it held went into the stream.
    child.on('close', (code, signal) => {
      this.settle(code === 0 ? undefined : code !== null ? `exit status ${code}` : `killed by ${signal ?? 'a signal'}`);
    });
    // A reader that destroys the stream is done with the capture.
    this.stream.on('close', () => this.stop());
  }

  stop(): void {
    if (this.stopped || this.done) return;
    this.stopped = true;
    this.recording.stop();
  }

  /** `failure` says how the recorder ended, when that was not a success. */
  private settle(failure: string | undefined): void {
    if (this.done) return;
    this.done = true;
    if (this.stream.destroyed) return;
    // Killed by stop() is how a capture normally ends, whatever status that leaves.
    if (this.stopped || failure === undefined) {
      this.stream.end();
      return;
    }
    // The recorder's last words say why (sox: "sox FAIL formats: can't open input …"); the
    // library's string only repeats the exit status.
    const said = this.stderr.trim().split('\n').pop()?.trim() || this.libraryError?.split('\n')[0] || 'no message';
    this.stream.destroy(new MicrophoneError('CAPTURE_FAILED', `${this.program} failed: ${said} (${failure})`));
  }
}

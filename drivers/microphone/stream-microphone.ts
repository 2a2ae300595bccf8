// A microphone over a stream the firmware captures itself (a vendor SDK, a DSP's wake-word
// buffer): its bytes pass through unchanged, and they must already be 16 kHz 16-bit mono PCM.
import { PassThrough, type Readable } from 'node:stream';
import { messageOf } from './message-of';
import { type Capture, type Microphone, MicrophoneError } from './microphone';

export class StreamMicrophone implements Microphone {
  private current: Capture | undefined;

  /** `openSource` starts one capture and returns its bytes; it is called once per open(). */
  constructor(private readonly openSource: () => Readable) {}

  open(): Capture {
    // One capture at a time, as on a real device: a new one takes over.
    this.current?.stop();
    let source: Readable;
    try {
      source = this.openSource();
    } catch (error) {
      throw asMicrophoneError(error, 'the capture source did not start');
    }
    this.current = new SourceCapture(source);
    return this.current;
  }
}

class SourceCapture implements Capture {
  readonly stream = new PassThrough();
  private done = false;

  constructor(private readonly source: Readable) {
    source.pipe(this.stream, { end: false });
    source.on('end', () => this.end());
    // Kept for the source's whole life: an 'error' after this capture is over must not go unheard.
    source.on('error', (error) => this.fail(error));
    // Destroyed without an error or an end: the firmware's way of saying it has stopped.
    source.on('close', () => this.end());
    // A reader that destroys the capture is done with it: release the source.
    this.stream.on('close', () => this.stop());
  }

  stop(): void {
    if (this.done) return;
    this.done = true;
    this.source.unpipe(this.stream);
    // What the source holds was captured before stop(), so it is still delivered.
    for (let chunk: unknown = this.source.read(); chunk !== null; chunk = this.source.read()) {
      if (!this.stream.destroyed) this.stream.write(chunk);
    }
    this.source.destroy();
    if (!this.stream.destroyed) this.stream.end();
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    this.stream.end();
  }

  private fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.source.unpipe(this.stream);
    this.stream.destroy(asMicrophoneError(error, 'the capture source failed'));
  }
}

function asMicrophoneError(error: unknown, what: string): MicrophoneError {
  if (error instanceof MicrophoneError) return error;
  return new MicrophoneError('CAPTURE_FAILED', `${what}: ${messageOf(error)}`);
}

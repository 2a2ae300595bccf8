import { PassThrough, Readable } from 'node:stream';
import { MicrophoneError } from '../../../drivers/microphone/microphone';
import { StreamMicrophone } from '../../../drivers/microphone/stream-microphone';
import { collect, failureOf, ramp, turn, expectReopenStopsPrevious } from './capture-helpers';

describe('StreamMicrophone', () => {
  it('passes the bytes through unchanged and ends when the source ends', async () => {
    const pcm = ramp(1234);
    const capture = new StreamMicrophone(() => Readable.from([pcm.subarray(0, 1000), pcm.subarray(1000)])).open();
    expect(Buffer.concat(await collect(capture.stream)).equals(pcm)).toBe(true);
  });

  it('opens a new source for every capture', async () => {
    let opened = 0;
    const mic = new StreamMicrophone(() => {
      opened += 1;
      return Readable.from([ramp(10)]);
    });
    await collect(mic.open().stream);
    await collect(mic.open().stream);
    expect(opened).toBe(2);
  });

  it('on stop() delivers what the source already holds, ends, and destroys the source', async () => {
    const source = new PassThrough();
    const capture = new StreamMicrophone(() => source).open();
    const delivered = collect(capture.stream);
    source.write(ramp(100));
    await turn();
    source.pause();
    source.write(ramp(50));
    capture.stop();
    expect(Buffer.concat(await delivered).length).toBe(150);
    expect(source.destroyed).toBe(true);
  });

  it('ends when the source is destroyed without an error', async () => {
    const source = new PassThrough();
    const capture = new StreamMicrophone(() => source).open();
    const delivered = collect(capture.stream);
    source.write(ramp(64));
    await turn();
    source.destroy();
    expect(Buffer.concat(await delivered).length).toBe(64);
  });

  it.each([
    ['an Error', new Error('dsp overrun'), 'the capture source failed: dsp overrun'],
    ['a string', 'dsp overrun', 'the capture source failed: dsp overrun'],
  ])('turns a source failing with %s into CAPTURE_FAILED', async (_what, failure, message) => {
    const source = new PassThrough();
    const capture = new StreamMicrophone(() => source).open();
    const failed = failureOf(capture.stream);
    source.emit('error', failure);
    const error = await failed;
    expect(error).toBeInstanceOf(MicrophoneError);
    expect(error).toMatchObject({ code: 'CAPTURE_FAILED', message });
  });

  it('keeps a MicrophoneError from the source as it is', async () => {
    const source = new PassThrough();
    const capture = new StreamMicrophone(() => source).open();
    const failed = failureOf(capture.stream);
    const original = new MicrophoneError('BAD_SOURCE', 'not 16 kHz');
    source.destroy(original);
    expect(await failed).toBe(original);
  });

  it('throws CAPTURE_FAILED when the source cannot start', () => {
    const mic = new StreamMicrophone(() => {
      throw new Error('no such device');
    });
    expect(() => mic.open()).toThrow(new MicrophoneError('CAPTURE_FAILED', 'the capture source did not start: no such device'));
  });

  it('destroys the source when the reader destroys the capture', async () => {
    const source = new PassThrough();
    const capture = new StreamMicrophone(() => source).open();
    capture.stream.destroy();
    await turn();
    expect(source.destroyed).toBe(true);
  });

  it('stops the previous capture when opened again', async () => {
    const sources = [new PassThrough(), new PassThrough()];
    const mic = new StreamMicrophone(() => sources.shift() ?? new PassThrough());
    await expectReopenStopsPrevious(mic);
  });
});

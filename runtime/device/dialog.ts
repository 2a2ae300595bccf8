// The side of a spoken dialog the machines cannot do themselves (DESIGN.md: machines invoke
// services, the runtime provides them): the recognize actor — microphone → one Recognize event
// with its audio streamed in §1.4 frames — and the playSpeech actor — a Speak's attachment →
// the audio output, as it streams in (§4.4 step 5).
import type { Readable } from 'node:stream';
import { fromCallback } from 'xstate';
import { buildEvent, type ContextEntry } from '../../machines/catalog';
import { contentIdOf } from '../../machines/envelope/primitives';
import type { RecognizeCommand, RecognizeFeedback, RecognizeInput } from '../../machines/speech-recognizer/machine';
import type { PlaybackFeedback, PlaySpeechInput } from '../../machines/speech-synthesizer/machine';
import type { AudioOutput } from '../../drivers/audio-output/output';
import { FRAME_BYTES, type Capture, type Microphone } from '../../drivers/microphone/microphone';
import type { Logger } from '../../services/log/logger';
import type { AttachmentStore } from '../../services/multipart';
import type { EventResponse } from '../../services/transport';

/** §1.4: the capture as 320-byte frames (10 ms), the last one possibly shorter; never throws. */
export async function* pcmFrames(stream: Readable, onError: (e: Error) => void): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
      let offset = 0;
      while (pending.length - offset >= FRAME_BYTES) {
        yield pending.subarray(offset, offset + FRAME_BYTES);
        offset += FRAME_BYTES;
      }
      pending = pending.subarray(offset);
    }
  } catch (e) {
    // A microphone that fails mid-capture ends the audio part; AVS answers what it heard.
    onError(e instanceof Error ? e : new Error(String(e)));
  }
  if (pending.length > 0) yield pending;
}

export interface DialogServices {
  readonly microphone: Microphone;
  readonly output: AudioOutput;
  readonly attachments: AttachmentStore;
  /** §2.3 now. */
  readonly context: () => ContextEntry[];
  /** Sends on the connection after the events queued before it, with streamed audio (fails when not connected). */
  readonly sendNow: (message: () => object, audio: AsyncIterable<Buffer>, signal: AbortSignal) => Promise<EventResponse>;
  /** The answer to a Recognize is complete (attention: nothing more is coming). */
  readonly onResponseComplete: (dialogRequestId: string) => void;
  readonly logger: Logger;
}

export function recognizeActor(services: DialogServices) {
  const log = services.logger.child({ module: 'speech-recognizer' });
  return fromCallback<RecognizeCommand, RecognizeInput>(({ input, sendBack, receive }) => {
    const send = (e: RecognizeFeedback) => {
      if (!over) sendBack(e);
    };
    let over = false;
    let capture: Capture;
    try {
      capture = services.microphone.open();
    } catch (e) {
      log.error({ error: (e as Error).message }, 'the microphone did not open');
      sendBack({ type: 'RECOGNIZE.FAILED', message: `microphone: ${(e as Error).message}` });
      return () => {};
    }
    // The stream may fail before the transport starts reading it (the Recognize waits its turn,
    // §1.7): listened to from the start, so a failure is never an unhandled 'error'.
    let micError: Error | undefined;
    capture.stream.on('error', (e: Error) => {
      micError ??= e;
    });
    let capturing = true;
    const frames = pcmFrames(capture.stream, (e) => log.error({ error: (micError ?? e).message }, 'the microphone failed during capture'));
    let bytes = 0;
    const audio = (async function* () {
      for await (const frame of frames) {
        bytes += frame.length;
        yield frame;
      }
      capturing = false;
      log.debug({ dialogRequestId: input.dialogRequestId, audioMs: Math.round(bytes / 32) }, 'capture ended');
      send({ type: 'RECOGNIZE.CAPTURE_ENDED' });
    })();
    // §5.3: the full context — of the moment the event goes, after the events queued before it.
    const message = () => buildEvent('SpeechRecognizer', 'Recognize', input.payload, { context: services.context(), dialogRequestId: input.dialogRequestId });
    const abort = new AbortController();
    log.info({ dialogRequestId: input.dialogRequestId, profile: input.payload.profile, initiator: input.payload.initiator?.type }, 'Recognize');
    services.sendNow(message, audio, abort.signal).then(
      (response) => {
        if (response.status !== 200 && response.status !== 204) {
          capture.stop();
          log.warn({ status: response.status, dialogRequestId: input.dialogRequestId }, 'AVS refused the Recognize');
          send({ type: 'RECOGNIZE.FAILED', message: `AVS answered ${response.status}` });
          return;
        }
        // §5.3: AVS closing the stream ends the capture too (no directives: an unverified wake word).
        if (response.status === 204) capture.stop();
        response.done.then(
          () => {
            capture.stop();
            services.onResponseComplete(input.dialogRequestId);
            send({ type: 'RECOGNIZE.RESPONDED' });
          },
          (e: Error) => {
            capture.stop();
            log.warn({ error: e.message }, 'the answer to the Recognize broke off');
            services.onResponseComplete(input.dialogRequestId);
            send({ type: 'RECOGNIZE.FAILED', message: e.message });
          },
        );
      },
      (e: Error) => {
        capture.stop();
        log.warn({ error: e.message }, 'the Recognize could not be sent');
        send({ type: 'RECOGNIZE.FAILED', message: e.message });
      },
    );
    receive((command) => {
      if (command.type === 'STOP') capture.stop();
    });
    return () => {
      over = true;
      // Leaving the capture: a Recognize still waiting its turn is dropped; the microphone closes,
      // which closes the audio part; an answer that is still coming is read all the same (its
      // directives go through the pipeline).
      abort.abort();
      if (capturing) capture.stop();
    };
  });
}

export function playSpeechActor(services: Pick<DialogServices, 'output' | 'attachments' | 'logger'>) {
  const log = services.logger.child({ module: 'speech-synthesizer' });
  return fromCallback<{ type: 'NONE' }, PlaySpeechInput>(({ input, sendBack }) => {
    let over = false;
    const send = (e: PlaybackFeedback) => {
      if (!over) sendBack(e);
    };
    // §4.4 step 5: the attachment is read as it arrives; the store fails it if it never comes.
    const stream = services.attachments.open(contentIdOf(input.url));
    const playback = services.output.play({ stream, format: 'mp3' });
    playback
      .on('started', () => send({ type: 'PLAYBACK.STARTED' }))
      .on('progress', (offsetMs) => send({ type: 'PLAYBACK.PROGRESS', offsetMs }))
      .on('finished', () => {
        send({ type: 'PLAYBACK.FINISHED', offsetMs: playback.offsetMs });
        over = true;
      })
      .on('failed', (e) => {
        log.warn({ token: input.token, error: e.message }, 'speech could not be played');
        send({ type: 'PLAYBACK.FAILED', message: e.message });
        over = true;
      });
    return () => {
      if (!over) playback.stop();
      over = true;
      stream.destroy();
    };
  });
}

// Reading an event request body as it streams (PROTOCOL.md §1.4): the `metadata` JSON part first,
// then, for Recognize, the `audio` part, whose bytes are counted and timed as they arrive and
// never held. Parsed with the project's MultipartParser, so a part is seen the moment it ends.
import type { Readable } from 'node:stream';
import { MultipartParser, type PartHeaders } from '../../services/multipart';

export interface EventBodyHandlers {
  /** The metadata part is complete (its raw text). */
  onMetadata(text: string): void;
  /** The audio part's headers arrived. */
  onAudioStart(): void;
  /** Audio bytes; `newChunk` is true for the first audio bytes of a read from the stream. */
  onAudio(bytes: number, newChunk: boolean): void;
  /** The body is over: complete, malformed (`error`) or broken off (`aborted`). Called once. */
  onEnd(outcome: EventBodyOutcome): void;
}

export interface EventBodyOutcome {
  readonly metadata: boolean;
  readonly audio: boolean;
  /** Why the body was refused (framing, a missing or misplaced part). */
  readonly error?: string;
  /** The client reset the stream or the connection went before the body ended. */
  readonly aborted?: boolean;
}

/** Largest metadata part accepted (a full context is a few KB). */
const MAX_METADATA_BYTES = 1024 * 1024;

const partName = (headers: PartHeaders): string | undefined =>
  /(?:^|;)\s*name\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(headers['content-disposition'] ?? '')?.slice(1).find((v) => v !== undefined);

export function readEventBody(body: Readable, boundary: string, handlers: EventBodyHandlers): void {
  let current: 'metadata' | 'audio' | 'other' | undefined;
  let metadata: Buffer[] = [];
  let metadataSize = 0;
  let sawMetadata = false;
  let sawAudio = false;
  let readSeq = 0;
  let audioReadSeq = -1;
  let done = false;
  const finish = (outcome: Omit<EventBodyOutcome, 'metadata' | 'audio'>) => {
    if (done) return;
    done = true;
    handlers.onEnd({ metadata: sawMetadata, audio: sawAudio, ...outcome });
  };
  const refuse = (error: string) => {
    finish({ error });
    // Keep draining so the client's upload is not stalled by flow control.
    body.resume();
  };

  const parser = new MultipartParser(boundary, {
    onPartStart(headers) {
      if (done) return;
      const name = partName(headers);
      if (!sawMetadata) {
        // §1.4: exactly one JSON part named metadata, always first.
        if (name !== 'metadata') return refuse(`the first part must be named "metadata", not ${JSON.stringify(name ?? '')}`);
        current = 'metadata';
        return;
      }
      if (name === 'metadata') return refuse('a second metadata part (§1.4: exactly one)');
      if (name === 'audio') {
        if (sawAudio) return refuse('a second audio part (§1.4: at most one)');
        sawAudio = true;
        current = 'audio';
        handlers.onAudioStart();
        return;
      }
      // (SDK) e.g. wakewordEngineMetadata after the audio: allowed, ignored.
      current = 'other';
    },
    onPartData(chunk) {
      if (done) return;
      if (current === 'metadata') {
        metadataSize += chunk.length;
        if (metadataSize > MAX_METADATA_BYTES) return refuse(`the metadata part is over ${MAX_METADATA_BYTES} bytes`);
        metadata.push(Buffer.from(chunk));
      } else if (current === 'audio') {
        const newChunk = audioReadSeq !== readSeq;
        audioReadSeq = readSeq;
        handlers.onAudio(chunk.length, newChunk);
      }
    },
    onPartEnd() {
      if (done) return;
      if (current === 'metadata') {
        sawMetadata = true;
        const text = Buffer.concat(metadata).toString('utf8');
        metadata = [];
        handlers.onMetadata(text);
      }
      current = undefined;
    },
    onClose() {
      finish({});
    },
    onError(e) {
      refuse(`malformed multipart body: ${e.code}: ${e.message}`);
    },
  });

  body.on('data', (chunk: Buffer | string) => {
    if (done) return;
    readSeq++;
    parser.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  });
  body.on('end', () => {
    parser.end();
    finish({}); // a body that closed properly has already finished; parser.end() reports the rest
  });
  body.on('error', () => finish({ aborted: true }));
  body.on('close', () => finish({ aborted: true }));
}

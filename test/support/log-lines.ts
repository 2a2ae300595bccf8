// A pino destination that keeps every line written to it (for tests that read the log, e.g. to
// check that no token is ever in it).
import { Writable } from 'node:stream';

export function logLines(into: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      into.push(chunk.toString());
      done();
    },
  });
}

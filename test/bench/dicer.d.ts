// The part of dicer 0.3.1 (a reference in the multipart benchmark) the bench uses; dicer ships
// no types and @types/dicer would bring its own @types/node.
declare module 'dicer' {
  import { Readable, Writable, type WritableOptions } from 'node:stream';

  namespace Dicer {
    interface Config extends WritableOptions {
      boundary?: string;
      headerFirst?: boolean;
      partHwm?: number;
      maxHeaderPairs?: number;
    }
    /** One part: its headers (names lower-cased, values as arrays), then its body as a stream. */
    interface PartStream extends Readable {
      on(event: 'header', listener: (header: Record<string, string[]>) => void): this;
      on(event: 'data', listener: (chunk: Buffer) => void): this;
      on(event: 'end' | 'close', listener: () => void): this;
      on(event: 'error', listener: (error: Error) => void): this;
    }
  }

  class Dicer extends Writable {
    constructor(config: Dicer.Config);
    setBoundary(boundary: string): void;
    on(event: 'part' | 'preamble', listener: (part: Dicer.PartStream) => void): this;
    on(event: 'finish' | 'close', listener: () => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
  }

  export = Dicer;
}

// A socket-level seam for the device process, with no change to the runtime: it wraps
// `http2.connect` so every stream the device opens gets a first 'data' listener that notes when
// each chunk of a response (the downchannel, an event's answer) reached JavaScript. The runtime's
// reader handles a chunk synchronously after that listener, so a part it emits can be dated by
// the chunk that completed it (`lastChunkAt` at that moment).
//
// `prependListener` (unlike `on('data')`) does not switch a stream into flowing mode, so the tap
// changes nothing about how the runtime reads.
import http2 from 'node:http2';
import { epochMs } from './clock';

export class WireTap {
  /** When the chunk being handled now (or the last one) arrived, in epochMs. */
  lastChunkAt = 0;
  chunks = 0;
  bytes = 0;
  private restore: (() => void) | undefined;

  /** Taps every HTTP/2 session opened from now on (one tap per process). */
  install(): this {
    if (this.restore) return this;
    const module = http2 as { connect: typeof http2.connect };
    const original = module.connect;
    const onChunk = (chunk: Buffer) => {
      this.lastChunkAt = epochMs();
      this.chunks++;
      this.bytes += chunk.length;
    };
    module.connect = function connect(this: unknown, ...args: unknown[]): http2.ClientHttp2Session {
      const session = (original as (...a: unknown[]) => http2.ClientHttp2Session).apply(http2, args);
      const request = session.request;
      session.request = function tappedRequest(this: http2.ClientHttp2Session, ...a: Parameters<typeof request>) {
        const stream = request.apply(this, a);
        stream.prependListener('data', onChunk);
        return stream;
      } as typeof request;
      return session;
    } as typeof http2.connect;
    this.restore = () => {
      module.connect = original;
    };
    return this;
  }

  uninstall(): void {
    this.restore?.();
    this.restore = undefined;
  }
}

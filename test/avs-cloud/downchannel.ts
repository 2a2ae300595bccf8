// One open downchannel (PROTOCOL.md §1.5.1, §1.6): `GET /v20160207/directives` answered 200 with
// the multipart content type, then held open and fed part by part — each part followed at once
// by the next delimiter line, so the device has it without waiting for more bytes.
import type { Exchange } from './exchange';
import type { BodyFault } from './faults';
import { AVS_CONTENT_TYPE, OPENING, type ResponsePart, streamParts } from './multipart-body';
import type { DownchannelInfo } from './recorder';

export class Downchannel {
  constructor(
    private readonly exchange: Exchange,
    readonly info: DownchannelInfo,
  ) {}

  get connection(): number {
    return this.exchange.connection;
  }

  /** Still takes pushes: not closed, and not ended by a fault (truncated, ended, reset). */
  get open(): boolean {
    return !this.exchange.closed && !this.exchange.ended;
  }

  /** §1.6: the 200 that makes the device connected, and the body's preamble and first delimiter. */
  start(requestId: string): void {
    // Resettable: the RST_STREAM fault must reach the device as one (§1.10).
    this.exchange.sendHeaders(200, { 'content-type': AVS_CONTENT_TYPE, 'x-amzn-requestid': requestId }, false, true);
    this.exchange.write(OPENING);
  }

  /** Writes parts now; a body fault spoils them (truncate also ends the downchannel). */
  push(parts: readonly ResponsePart[], fault?: BodyFault): void {
    if (fault?.kind === 'truncate') {
      const bytes = streamParts(parts);
      this.exchange.end(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))));
      return;
    }
    this.exchange.write(streamParts(parts, fault?.kind === 'corrupt' ? fault.mode : undefined));
  }

  /** RST_STREAM (§1.10: the device must reconnect). */
  reset(code?: number): void {
    this.exchange.reset(code);
  }

  /**
   * Ends the stream as a server closing the downchannel does: END_STREAM (here on an empty
   * trailer block), with no close delimiter (a downchannel body never completes, §1.5.1).
   */
  end(): void {
    this.exchange.end();
  }

  onClose(listener: () => void): void {
    this.exchange.onClose(listener);
  }
}

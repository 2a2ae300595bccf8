// A Server-Sent Events client for tests: reads a stream over plain HTTP and lets a test wait for
// the first message that matches (messages already read count too).
import { get, type IncomingMessage } from 'node:http';

export interface SseMessage {
  readonly event: string;
  readonly data: string;
}

export interface SseClient {
  readonly response: IncomingMessage;
  /** Every message read so far, in order. */
  readonly messages: SseMessage[];
  /** The first message (from the start) that matches; rejects after timeoutMs or when the stream ends first. */
  waitFor(match: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

export function openSse(url: string): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { accept: 'text/event-stream' } }, (response) => {
      const messages: SseMessage[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let done = false;
      const ended = new Promise<void>((end) => {
        response.on('end', () => {
          done = true;
          for (const w of waiters) w();
          end();
        });
      });
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) messages.push({ event, data: data.join('\n') });
        }
        for (const w of waiters) w();
      });
      resolve({
        response,
        messages,
        ended,
        close: () => req.destroy(),
        waitFor: (match, timeoutMs = 10_000) =>
          new Promise<SseMessage>((found, fail) => {
            const check = () => {
              const m = messages.find(match);
              if (m) {
                finish();
                found(m);
              } else if (done) {
                finish();
                fail(new Error('the stream ended first'));
              }
            };
            const timer = setTimeout(() => {
              finish();
              fail(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.map((x) => x.event))}`));
            }, timeoutMs);
            const finish = () => {
              clearTimeout(timer);
              waiters.delete(check);
            };
            waiters.add(check);
            check();
          }),
      });
    });
    req.on('error', reject);
  });
}

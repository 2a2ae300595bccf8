// Fetches an AudioPlayer URL (PROTOCOL.md §8.3) as a stream, for outputs that read the bytes
// themselves. The stream errors on a failed request or a non-2xx answer, so the caller can report
// SOURCE_FAILED; destroying it aborts the request.
import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export interface FetchUrlOptions {
  /** Extra CA certificates for https (the simulator's own CA). */
  readonly ca?: string | Buffer;
  /** Redirects followed before giving up. */
  readonly maxRedirects?: number;
}

export type FetchUrl = (url: string) => Readable;

/** http(s) with node's own modules, or a file: URL. */
export function fetchUrl(url: string, options: FetchUrlOptions = {}): Readable {
  const out = new PassThrough();
  const fail = (message: string): void => {
    out.destroy(new Error(message));
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    process.nextTick(fail, `not a URL: ${url}`);
    return out;
  }
  if (parsed.protocol === 'file:') return createReadStream(fileURLToPath(parsed));
  let request: http.ClientRequest | undefined;
  // A stop() destroys `out`; the request goes with it.
  out.once('close', () => request?.destroy());
  const get = (target: URL, redirectsLeft: number): void => {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return fail(`unsupported URL scheme ${target.protocol} in ${url}`);
    const onResponse = (res: http.IncomingMessage): void => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        res.resume();
        if (redirectsLeft <= 0) return fail(`GET ${url}: too many redirects`);
        return get(new URL(location, target), redirectsLeft - 1);
      }
      if (status < 200 || status >= 300) {
        res.resume();
        return fail(`GET ${target.href}: HTTP ${status}`);
      }
      res.on('error', (e: Error) => fail(`GET ${target.href}: ${e.message}`));
      res.pipe(out);
    };
    // Certificate checks always on: rejectUnauthorized given, so NODE_TLS_REJECT_UNAUTHORIZED=0 cannot turn them off.
    request =
      target.protocol === 'https:'
        ? https.get(target, { rejectUnauthorized: true, ...(options.ca === undefined ? {} : { ca: options.ca }) }, onResponse)
        : http.get(target, onResponse);
    request.on('error', (e: Error) => fail(`GET ${target.href}: ${e.message}`));
  };
  get(parsed, options.maxRedirects ?? 5);
  return out;
}

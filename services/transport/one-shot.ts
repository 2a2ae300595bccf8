// A single request over its own short-lived HTTP/2 connection (TLS, or h2c for http:// URLs),
// for calls outside the AVS connection such as the §13 capabilities PUT.
import http2 from 'node:http2';
import { rootCertificates } from 'node:tls';

export interface OneShotRequest {
  readonly url: string;
  readonly method: string;
  readonly headers?: http2.OutgoingHttpHeaders;
  readonly body?: string | Buffer;
  /** Extra CA (PEM) trusted beside the system's. */
  readonly ca?: string | Buffer;
  readonly timeoutMs?: number;
  /** Largest answer body kept. */
  readonly maxBodyBytes?: number;
}

export interface OneShotResponse {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: string;
}

export function oneShot(req: OneShotRequest): Promise<OneShotResponse> {
  const url = new URL(req.url);
  return new Promise<OneShotResponse>((resolve, reject) => {
    // Certificate checks always on: rejectUnauthorized given, so NODE_TLS_REJECT_UNAUTHORIZED=0 cannot turn them off.
    const client =
      url.protocol === 'http:'
        ? http2.connect(url.origin)
        : http2.connect(url.origin, { rejectUnauthorized: true, ...(req.ca ? { ca: [...rootCertificates, req.ca.toString()] } : {}) });
    const fail = (e: Error) => {
      client.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`${req.method} ${url.pathname}: no answer within ${req.timeoutMs ?? 60_000} ms`)), req.timeoutMs ?? 60_000);
    timer.unref();
    client.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    const stream = client.request({ ':method': req.method, ':path': `${url.pathname}${url.search}`, ...req.headers });
    stream.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    const chunks: Buffer[] = [];
    let size = 0;
    const max = req.maxBodyBytes ?? 64 * 1024;
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= max) chunks.push(c);
    });
    stream.on('end', () => {
      clearTimeout(timer);
      client.close();
      resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString('utf8') });
    });
    stream.end(req.body);
  });
}

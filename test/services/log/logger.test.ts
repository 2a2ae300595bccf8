// CONVENTIONS.md: structured logs, one logger per module, never a token or an audio buffer in a line.
import { Writable } from 'node:stream';
import { createLogger } from '../../../services/log/logger';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

describe('logger', () => {
  it('names the module of each line', () => {
    const { lines, logger } = capture();
    logger.child({ module: 'transport' }).info('connected');
    expect(JSON.parse(lines[0])).toMatchObject({ module: 'transport', msg: 'connected', level: 30 });
  });

  it('never writes a token, wherever it sits', () => {
    const { lines, logger } = capture();
    const secret = 'Atza|IwEBIsecret';
    logger.info(
      {
        authorization: `Bearer ${secret}`,
        headers: { 'x-amz-access-token': secret, authorization: secret },
        body: { access_token: secret, refresh_token: secret, nested: { refresh_token: secret } },
        refreshToken: secret,
      },
      'request',
    );
    expect(lines.join('')).not.toContain(secret);
    expect(lines.join('')).toContain('[redacted]');
  });

  it('writes audio as its length only', () => {
    const { lines, logger } = capture();
    logger.debug({ audio: Buffer.alloc(3200, 7), frame: { pcm: new Uint8Array(320) } }, 'frame');
    const line = JSON.parse(lines[0]);
    expect(line.audio).toBe('[3200 bytes]');
    expect(line.frame.pcm).toBe('[320 bytes]');
  });
});

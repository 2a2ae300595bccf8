// The simulator's own TLS: a fresh CA and a server certificate for localhost / 127.0.0.1, made at
// start with Debian's `openssl` command (PROTOCOL.md §1.1: AVS is HTTP/2 over TLS only, and a
// client must verify the server — so the device is pointed at this CA instead of turning checks off).
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface Certificates {
  readonly caPath: string;
  /** The CA certificate (PEM) a client trusts. */
  readonly ca: string;
  /** The server's private key and certificate (PEM). */
  readonly key: string;
  readonly cert: string;
}

/** The openssl command is missing or failed; `code` says which. */
export class CertificateError extends Error {
  constructor(
    readonly code: 'OPENSSL_MISSING' | 'OPENSSL_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'CertificateError';
  }
}

// One config file for both certificates, so nothing depends on the system openssl.cnf (whose
// default extensions would clash with ours).
const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function run(openssl: string, args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(openssl, args, { cwd, timeout: 30_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(
          new CertificateError(
            'OPENSSL_MISSING',
            `the simulator makes its TLS certificates with the openssl command line tool, and "${openssl}" was not found ` +
              '(install the openssl package, or start the simulator with h2c)',
          ),
        );
      }
      reject(new CertificateError('OPENSSL_FAILED', `openssl ${args[0]} failed: ${String(stderr).trim() || error.message}`));
    });
  });
}

/**
 * Writes ca.pem, ca-key.pem, server.pem and server-key.pem into `dir` (created if needed): an
 * EC P-256 CA, self-signed, and a P-256 server certificate it signed for DNS:localhost and
 * IP:127.0.0.1, both valid for 30 days.
 */
export async function createCertificates(dir: string, openssl = 'openssl'): Promise<Certificates> {
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'openssl.cnf');
  await writeFile(config, CONFIG);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run(
    openssl,
    ['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '30', '-sha256', '-config', config,
      '-extensions', 'ca_ext', '-subj', '/CN=avs-device simulator CA'],
    dir,
  );
  await run(openssl, ['req', '-new', ...ec, '-keyout', 'server-key.pem', '-out', 'server.csr', '-config', config, '-subj', '/CN=localhost'], dir);
  await run(
    openssl,
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
      '-days', '30', '-sha256', '-extfile', config, '-extensions', 'server_ext', '-out', 'server.pem'],
    dir,
  );
  const [ca, key, cert] = await Promise.all(['ca.pem', 'server-key.pem', 'server.pem'].map((f) => readFile(join(dir, f), 'utf8')));
  return { caPath: join(dir, 'ca.pem'), ca, key, cert };
}

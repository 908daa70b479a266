import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let cached: { cert: Buffer; key: Buffer; dir: string; certFile: string; keyFile: string } | undefined;

/** A self-signed certificate for localhost/127.0.0.1, made with the system's openssl once per test file. */
export function selfSigned() {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cert-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  cached = { cert: readFileSync(certFile), key: readFileSync(keyFile), dir, certFile, keyFile };
  return cached;
}

/** The self-signed certificate as a test server and client use it: the server's `tls` option, and the CA a client trusts. */
export function certificates() {
  const { cert, key } = selfSigned();
  return { tls: { certificates: [{ cert, key }] }, ca: cert };
}

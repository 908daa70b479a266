import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where generated certificates are kept between runs (per user, never in the project). */
export function certificateCacheDir(): string {
  if (process.env.FERRY_CACHE_DIR) return join(process.env.FERRY_CACHE_DIR, 'certificates');
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'ferry', 'certificates');
}

function covers(x509: X509Certificate, subject: string): boolean {
  return isIP(subject) ? x509.checkIP(subject) !== undefined : x509.checkHost(subject) !== undefined;
}

/**
 * A certificate for `subjects` from Ferry's internal issuer (Caddy's `"issuers": [{"module":
 * "internal"}]`): self-signed, made once and cached; remade when it is about to expire or does
 * not cover a subject. Browsers will warn about it: it is for development and loopback use.
 */
export async function internalCertificate(subjects: readonly string[], dir = certificateCacheDir()): Promise<{ cert: string; key: string }> {
  const name = createHash('sha256').update([...subjects].sort().join(',')).digest('hex').slice(0, 16);
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  try {
    const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    const x509 = new X509Certificate(cert);
    const fresh = new Date(x509.validTo).getTime() - Date.now() > 24 * 3600 * 1000;
    if (fresh && subjects.every((s) => covers(x509, s))) return { cert, key };
  } catch {
    // none cached (or unreadable): make one
  }
  const { generate } = await import('selfsigned');
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: subjects[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 90 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: subjects.map((s) => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s })),
      },
    ],
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await Promise.all([writeFile(certFile, pems.cert, { mode: 0o644 }), writeFile(keyFile, pems.private, { mode: 0o600 })]);
  return { cert: pems.cert, key: pems.private };
}

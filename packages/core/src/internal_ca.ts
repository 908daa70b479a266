import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where generated certificates are kept between runs (per user, never in the project). */
export function certificateCacheDir(): string {
  if (process.env.FERRY_CACHE_DIR) return join(process.env.FERRY_CACHE_DIR, 'certificates');
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'ferry', 'certificates');
}

function covers(x509: X509Certificate, subject: string): boolean {
  return isIP(subject) ? x509.checkIP(subject) !== undefined : x509.checkHost(subject) !== undefined;
}

const CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/;
const KEY = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----[\s\S]+?-----END ([A-Z]+ )?PRIVATE KEY-----\n?/;

/** The cached pair in `file`, if it is whole, matching, fresh for a day more and covers every subject. */
async function cached(file: string, subjects: readonly string[]): Promise<{ cert: string; key: string } | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    const cert = CERT.exec(text)?.[0];
    const key = KEY.exec(text)?.[0];
    if (!cert || !key) return undefined;
    const x509 = new X509Certificate(cert);
    const fresh = new Date(x509.validTo).getTime() - Date.now() > 24 * 3600 * 1000;
    if (fresh && x509.checkPrivateKey(createPrivateKey(key)) && subjects.every((s) => covers(x509, s))) return { cert, key };
  } catch {
    // none cached, unreadable or damaged: make one
  }
  return undefined;
}

/** A lock older than this was left by a process that died while making a certificate. */
const STALE_LOCK_MS = 30_000;

/**
 * Runs `fn` holding `lockFile` (created exclusively), so that processes starting together —
 * `ferry run --workers N` — make one certificate between them instead of one each.
 */
async function withLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      await (await open(lockFile, 'wx', 0o600)).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = await stat(lockFile).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (held > STALE_LOCK_MS) await rm(lockFile, { force: true });
      // Another process is making the certificate (tens of milliseconds): look again shortly.
      else await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/**
 * A certificate for `subjects` from Ferry's internal issuer (Caddy's `"issuers": [{"module":
 * "internal"}]`): self-signed, made once and cached; remade when it is about to expire or does
 * not cover a subject. Browsers will warn about it: it is for development and loopback use.
 *
 * The cache holds the certificate and its key in one file, written whole (a temporary file
 * renamed into place), so a reader never sees half a file or a key from another certificate;
 * processes that find no certificate at the same time make it one at a time (a lock file), so
 * they all serve the same one.
 */
export async function internalCertificate(
  subjects: readonly string[],
  dir = certificateCacheDir(),
): Promise<{ cert: string; key: string }> {
  const name = createHash('sha256')
    .update([...subjects].sort().join(','))
    .digest('hex')
    .slice(0, 16);
  const file = join(dir, `${name}.pem`);
  const found = await cached(file, subjects);
  if (found) return found;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return withLock(`${file}.lock`, async () => {
    // Made by whoever held the lock before us?
    const made = await cached(file, subjects);
    if (made) return made;
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
    const cert = pems.cert.endsWith('\n') ? pems.cert : `${pems.cert}\n`;
    const key = pems.private.endsWith('\n') ? pems.private : `${pems.private}\n`;
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, cert + key, { mode: 0o600 });
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { cert, key };
  });
}

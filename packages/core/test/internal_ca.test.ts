import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { internalCertificate } from '../src/internal_ca.js';

const freshDir = () => join(mkdtempSync(join(tmpdir(), 'ferry-ca-')), 'certificates');

describe('internal issuer', () => {
  it('makes a certificate for the subjects once, and serves it from the cache afterwards', async () => {
    const dir = freshDir();
    const first = await internalCertificate(['localhost', '127.0.0.1'], dir);
    const x509 = new X509Certificate(first.cert);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(await internalCertificate(['127.0.0.1', 'localhost'], dir)).toEqual(first);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('callers that find the cache empty at the same time all get one and the same certificate', async () => {
    const dir = freshDir();
    const pairs = await Promise.all(Array.from({ length: 4 }, () => internalCertificate(['localhost'], dir)));
    for (const p of pairs) expect(p).toEqual(pairs[0]);
    // One cache file; no lock or temporary file left behind.
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^[0-9a-f]{16}\.pem$/)]);
  });

  it('replaces a damaged cache file instead of failing', async () => {
    const dir = freshDir();
    const first = await internalCertificate(['localhost'], dir);
    const [file] = readdirSync(dir);
    writeFileSync(join(dir, file!), first.cert.slice(0, 100));
    const again = await internalCertificate(['localhost'], dir);
    expect(again.cert).not.toBe(first.cert);
    expect(new X509Certificate(again.cert).checkHost('localhost')).toBe('localhost');
  });
});

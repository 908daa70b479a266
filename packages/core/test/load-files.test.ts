import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFifo } from '@ferry/test-kit/fifo';
import { selfSigned } from '@ferry/test-kit/certs';
import { ConfigError, loadConfig, silentLogger, type ConfigIssue } from '../src/index.js';

/** Issue #13 item 10: `load_files` naming a directory or a FIFO. */

const dir = mkdtempSync(join(tmpdir(), 'ferry-load-files-'));

const fifo = (name: string) => makeFifo(dir, name);

const pem = selfSigned();
const certFile = join(dir, 'cert.pem');
writeFileSync(certFile, pem.cert);

const withFiles = (certificate: string, key: string) => ({ apps: { tls: { certificates: { load_files: [{ certificate, key }] } } } });

/** The issues of a config that must not load, within `ms` (a hang fails the test, not times it out). */
async function issuesWithin(json: unknown, ms = 2000): Promise<ConfigIssue[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  const outcome = await Promise.race([
    loadConfig(json, { logger: silentLogger() }).then(
      () => 'loaded' as const,
      (e: unknown) => e,
    ),
    deadline,
  ]);
  clearTimeout(timer);
  expect(outcome, `loadConfig ${typeof outcome === 'string' ? outcome : 'threw'}`).toBeInstanceOf(ConfigError);
  return (outcome as ConfigError).issues;
}

describe('apps.tls.certificates.load_files', () => {
  it('refuses a directory at its JSON path, naming the file and saying it is a directory', async () => {
    const sub = join(dir, 'certs');
    mkdirSync(sub);
    expect(await issuesWithin(withFiles(sub, certFile))).toEqual([
      { path: 'apps.tls.certificates.load_files[0].certificate', message: `cannot read certificate file ${sub}: is a directory` },
    ]);
  });

  it('refuses a FIFO at once, at its JSON path, instead of waiting for a writer', async () => {
    const key = fifo('key.fifo');
    expect(await issuesWithin(withFiles(certFile, key))).toEqual([
      {
        path: 'apps.tls.certificates.load_files[0].key',
        message: `cannot read key file ${key}: is a named pipe (FIFO), not a regular file`,
      },
    ]);
  });

  it('refuses a file larger than 1 MiB: no certificate or key is that large', async () => {
    const big = join(dir, 'big.pem');
    writeFileSync(big, Buffer.alloc(1024 * 1024 + 1, 'A'));
    expect(await issuesWithin(withFiles(big, certFile))).toEqual([
      {
        path: 'apps.tls.certificates.load_files[0].certificate',
        message: `cannot read certificate file ${big}: larger than 1 MiB (it is not a PEM certificate or key)`,
      },
    ]);
  });

  it('names a missing file and says so', async () => {
    const missing = join(dir, 'missing.pem');
    expect(await issuesWithin(withFiles(certFile, missing))).toEqual([
      { path: 'apps.tls.certificates.load_files[0].key', message: `cannot read key file ${missing}: no such file` },
    ]);
  });
});

import type { z } from 'zod';
import { type ConfigIssue, joinPath } from '../errors.js';
import { internalCertificate } from '../internal_ca.js';
import { FileReadError, readFileBounded } from '../read-file.js';
import type { CertificatePair } from '../server/options.js';
import type { configSchema, serverSchema } from './schema.js';

/** A loaded certificate, and the tags a server's TLS policy chooses it by. */
export type TaggedCertificate = CertificatePair & { tags: string[] };

type TlsApp = NonNullable<NonNullable<z.output<typeof configSchema>['apps']>['tls']>;
type TlsPolicies = NonNullable<z.output<typeof serverSchema>['tls_connection_policies']>;

/** PEM certificates and keys, even long chains, are a few KiB: past this it is the wrong file. */
const MAX_PEM_BYTES = 1024 * 1024;

/**
 * The certificates of `apps.tls`: its files, its inline PEM, and the internal issuer's
 * self-signed ones. What cannot be loaded is an issue at its JSON path.
 */
export async function loadCertificates(tls: TlsApp | undefined, issues: ConfigIssue[]): Promise<TaggedCertificate[]> {
  const certs: TaggedCertificate[] = [];
  for (const [i, f] of (tls?.certificates?.load_files ?? []).entries()) {
    const at = joinPath('apps.tls.certificates.load_files', i);
    const cert = await readPem(f, 'certificate', at, issues);
    const key = await readPem(f, 'key', at, issues);
    if (cert && key) certs.push({ cert, key, tags: f.tags ?? [] });
  }
  for (const p of tls?.certificates?.load_pem ?? []) certs.push({ cert: p.certificate, key: p.key, tags: p.tags ?? [] });
  for (const [i, policy] of (tls?.automation?.policies ?? []).entries()) {
    try {
      const { cert, key } = await internalCertificate(policy.subjects);
      certs.push({ cert, key, tags: [] });
    } catch (err) {
      issues.push({
        path: joinPath('apps.tls.automation.policies', i),
        message: `cannot make an internal certificate: ${(err as Error).message}`,
      });
    }
  }
  return certs;
}

/** The certificates a server's policies choose: those with any tag they name (all policies together), or all. */
export function chooseCertificates(policies: TlsPolicies, certs: readonly TaggedCertificate[]): TaggedCertificate[] {
  const tags = policies.flatMap((p) => p.certificate_selection?.any_tag ?? []);
  return tags.length ? certs.filter((c) => c.tags.some((t) => tags.includes(t))) : [...certs];
}

/** Reads one file of a `load_files` entry at `at`, or adds an issue at its path naming it and what is wrong. */
async function readPem(
  entry: { certificate: string; key: string },
  field: 'certificate' | 'key',
  at: string,
  issues: ConfigIssue[],
): Promise<Buffer | undefined> {
  const file = entry[field];
  try {
    // Regular files only: a FIFO would hold the load, and with it the admin API's change queue (#13).
    return await readFileBounded(file, {
      maxBytes: MAX_PEM_BYTES,
      tooLarge: 'larger than 1 MiB (it is not a PEM certificate or key)',
      regularOnly: true,
    });
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    issues.push({ path: joinPath(at, field), message: `cannot read ${field} file ${file}: ${err.reason}` });
    return undefined;
  }
}

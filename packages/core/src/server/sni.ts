import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificatePair } from './options.js';

/** Picks the certificate for an SNI name: the first whose names cover it, else the first. */
export function sniSelector(pairs: readonly CertificatePair[]): {
  defaults: CertificatePair;
  SNICallback?: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
} {
  const defaults = pairs[0]!;
  if (pairs.length === 1) return { defaults };
  const entries = pairs.map((p) => ({ x509: new X509Certificate(p.cert), ctx: createSecureContext({ cert: p.cert, key: p.key }) }));
  return {
    defaults,
    SNICallback(name, cb) {
      const hit = entries.find((e) => e.x509.checkHost(name) !== undefined) ?? entries[0]!;
      cb(null, hit.ctx);
    },
  };
}

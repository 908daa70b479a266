/**
 * Picks the response encoding from `Accept-Encoding` (RFC 9110 §12.5.3): the highest q-value
 * wins; `*` stands for every encoding not named otherwise; `q=0` rules an encoding out; ties go
 * to the server's `prefer` order. Returns undefined for identity.
 */
export function negotiate(header: string | undefined, offered: readonly string[]): string | undefined {
  if (!header) return undefined;
  const q = new Map<string, number>();
  let star: number | undefined;
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName!.trim().toLowerCase();
    if (!name) continue;
    let weight = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q' && v !== undefined) {
        const n = Number(v.trim());
        weight = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0;
      }
    }
    if (name === '*') {
      star = Math.max(star ?? 0, weight);
      continue;
    }
    // x-gzip is gzip's old alias (RFC 9110 §8.4.1.3). Look up the canonical name too, so an
    // `x-gzip;q=0.1` after `gzip;q=0.9` cannot lower gzip's weight.
    const canonical = name === 'x-gzip' ? 'gzip' : name;
    q.set(canonical, Math.max(q.get(canonical) ?? 0, weight));
  }
  let best: string | undefined;
  let bestQ = 0;
  // `offered` is already in preference order, so a strictly greater q is needed to overtake.
  for (const enc of offered) {
    const w = q.get(enc) ?? star ?? 0;
    if (w > bestQ) {
      best = enc;
      bestQ = w;
    }
  }
  // A client that prefers identity outright gets it.
  const identity = q.get('identity');
  if (identity !== undefined && identity > bestQ) return undefined;
  return best;
}

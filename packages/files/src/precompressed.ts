/**
 * `precompressed`: sidecar files compressed ahead of time (`app.js.br` beside `app.js`), chosen by
 * the client's Accept-Encoding (RFC 9110 §12.5.3), as Caddy's encode.AcceptedEncodings does:
 * highest q-value first, `q=0` excluded, ties in `precompressed_order` — or, without one, in the
 * order the client listed them (Caddy: "the first encoding from the Accept-Encoding header").
 */

export type Precompressed = 'gzip' | 'br' | 'zstd';

export const SUFFIX: Record<Precompressed, string> = { gzip: '.gz', br: '.br', zstd: '.zst' };

/** Encodings longer than this many header bytes are not parsed (a hostile field costs nothing). */
const MAX_FIELD = 1024;

/**
 * The configured encodings the client accepts, best first. `order` breaks ties when `ordered`;
 * otherwise the client's own order does (an encoding that only `*` accepts comes where `*` is).
 */
export function acceptedEncodings(field: string | undefined, order: readonly Precompressed[], ordered = true): Precompressed[] {
  if (field === undefined || field === '' || field.length > MAX_FIELD) return [];
  const q = new Map<string, number>();
  const position = new Map<string, number>();
  for (const item of field.split(',')) {
    const [nameRaw, ...params] = item.split(';');
    const name = nameRaw!.trim().toLowerCase();
    if (name === '') continue;
    let value = 1;
    for (const p of params) {
      const [k, v] = p.split('=');
      if (k?.trim().toLowerCase() === 'q') value = Number(v?.trim());
    }
    if (!Number.isFinite(value)) value = 0;
    const key = name === 'x-gzip' ? 'gzip' : name;
    q.set(key, value);
    if (!position.has(key)) position.set(key, position.size);
  }
  const star = q.get('*');
  const ranked: { enc: Precompressed; q: number; i: number }[] = [];
  order.forEach((enc, i) => {
    const v = q.get(enc) ?? star;
    if (v !== undefined && v > 0) ranked.push({ enc, q: v, i: ordered ? i : (position.get(enc) ?? position.get('*')!) * 8 + i });
  });
  ranked.sort((a, b) => b.q - a.q || a.i - b.i);
  return ranked.map((r) => r.enc);
}

/** What `addVary` needs of a response. */
interface VaryTarget {
  getHeader(name: string): number | string | string[] | undefined;
  appendHeader(name: string, value: string): unknown;
}

/** Whether a `Vary` value (one field or several) already names `field`, or is `*`, which covers every field. */
function varies(value: number | string | string[], field: string): boolean {
  const lower = field.toLowerCase();
  for (const v of Array.isArray(value) ? value : [String(value)]) {
    for (const item of v.split(',')) {
      const name = item.trim().toLowerCase();
      if (name === lower || name === '*') return true;
    }
  }
  return false;
}

/**
 * Adds `field` to the response's `Vary` unless it is named there already, keeping what earlier
 * handlers put there (RFC 9110 §12.5.5: a list; a cache must see every request field the answer
 * depends on).
 */
export function addVary(res: VaryTarget, field: string): void {
  const current = res.getHeader('vary');
  if (current !== undefined && varies(current, field)) return;
  res.appendHeader('vary', field);
}

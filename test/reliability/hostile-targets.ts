/**
 * Spellings of a request target that mean `/admin` (or `/secret`) to some reader — escapes a
 * matcher does not decode, dot segments, `\` and `#` that a backend's URL parser reads
 * differently, bytes that are not UTF-8 — for the tests that check an `/admin*` block cannot be
 * walked past (target-bypass, and Ferry mounted in other servers).
 */
export const HOSTILE = [
  '/admin',
  '/ADMIN',
  '/%61dmin',
  '/%61dmin/%ff',
  '/%61dmin/%zz',
  '/%61dmin/%',
  '/%61dmin/%e2%82',
  '/x/../admin',
  '/x/%2e%2e/admin',
  '/x/%2E%2E%2Fadmin',
  '/x/..\\admin',
  '/x/..%5Cadmin',
  '/\\admin',
  '/admin#/../x',
  '/x#/../../admin',
  '//admin',
  '/./admin',
  '/%2fadmin',
  '/%73ecret',
  '/x/../secret',
  '/admin\xff',
  '/adm\x7fin',
];

/** Absolute-form targets whose path is `/admin`: served as origin-form, they meet the path matcher. */
export const ABSOLUTE_ADMIN = ['http://x/admin', 'HTTP://x/%61dmin', 'https://x/admin/../admin'];

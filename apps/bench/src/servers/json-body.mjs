// The gzip scenario's body: 102,602 bytes of realistic JSON (an API's page of orders), the same
// on every run: built from a fixed-seed generator, not random, so every contender and every run
// compresses exactly the same bytes. Run directly, it prints the body.
import { fileURLToPath } from 'node:url';

/** The body's exact size in bytes (ASCII, so characters = bytes). */
export const JSON_SIZE = 102_602;

export const JSON_TYPE = 'application/json';

/** The gzip level every contender is configured with (zlib's default; Caddy's default is 5). */
export const GZIP_LEVEL = 6;

const WORDS = [
  'blue',
  'steel',
  'river',
  'garden',
  'lamp',
  'coffee',
  'paper',
  'wool',
  'cedar',
  'glass',
  'north',
  'harbor',
  'linen',
  'maple',
];
const CITIES = ['Lisbon', 'Osaka', 'Denver', 'Tallinn', 'Recife', 'Lyon', 'Perth', 'Accra', 'Montreal', 'Pune', 'Bergen', 'Cusco'];
const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'refunded'];

/** A small linear congruential generator: deterministic, and enough for plausible data. */
function generator(seed) {
  let x = seed >>> 0;
  const next = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
  return { int: (n) => Math.floor(next() * n), pick: (list) => list[Math.floor(next() * list.length)] };
}

function order(g, id) {
  const name = `${g.pick(WORDS)} ${g.pick(WORDS)}`;
  const items = Array.from({ length: 1 + g.int(4) }, () => ({
    sku: `SKU-${10000 + g.int(90000)}`,
    title: `${g.pick(WORDS)} ${g.pick(WORDS)} ${g.pick(['mug', 'chair', 'scarf', 'notebook', 'lamp'])}`,
    quantity: 1 + g.int(5),
    unitPrice: Math.round(g.int(20000)) / 100,
  }));
  return {
    id,
    createdAt: new Date(Date.UTC(2024, g.int(12), 1 + g.int(28), g.int(24), g.int(60), g.int(60))).toISOString(),
    status: g.pick(STATUSES),
    customer: { id: `cus_${(g.int(2 ** 31) + 2 ** 31).toString(36)}`, name, email: `${name.replace(' ', '.')}${g.int(100)}@example.com` },
    shipping: { city: g.pick(CITIES), postalCode: String(10000 + g.int(90000)), express: g.int(2) === 1 },
    items,
    total: Math.round(items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0) * 100) / 100,
  };
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Orders until the next one would pass JSON_SIZE, then an opaque `cursor` token of the length left. */
function build() {
  const g = generator(20240601);
  const orders = [];
  const text = (cursor) => JSON.stringify({ page: 1, orders, cursor });
  for (let id = 1; ; id++) {
    orders.push(order(g, id));
    if (text('').length > JSON_SIZE) break;
  }
  orders.pop();
  const missing = JSON_SIZE - text('').length;
  const body = text(Array.from({ length: missing }, () => g.pick(BASE64URL)).join(''));
  if (body.length !== JSON_SIZE) throw new Error(`json-body: built ${body.length} bytes, expected ${JSON_SIZE}`);
  return body;
}

export const JSON_BODY = build();

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(JSON_BODY);

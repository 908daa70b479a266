// The scenarios run.mjs knows, by `--scenario`. Each is a plain object: its contenders, its
// sub-cases, how a contender's answer is checked (`verify`) and how it is loaded (`drive`).
// Every other file in this folder exports one scenario, registered here by its `id`; `--help`
// lists them in ORDER, then any newer ones by name.
import { readdirSync } from 'node:fs';

const ORDER = ['hello', 'workers', 'proxy', 'ws', 'gzip', 'sse-fanout', 'routes', 'files', 'interop'];

async function load() {
  const found = {};
  const files = readdirSync(new URL('.', import.meta.url)).filter((f) => f.endsWith('.mjs') && f !== 'index.mjs');
  for (const file of files.sort()) {
    const mod = await import(new URL(file, import.meta.url).href);
    for (const scenario of Object.values(mod)) {
      if (scenario && typeof scenario === 'object' && typeof scenario.id === 'string' && scenario.contenders) {
        found[scenario.id] = scenario;
      }
    }
  }
  const rank = (id) => (ORDER.includes(id) ? ORDER.indexOf(id) : ORDER.length);
  const ids = Object.keys(found).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return Object.fromEntries(ids.map((id) => [id, found[id]]));
}

export const scenarios = await load();

import { joinPath, type ConfigIssue } from './errors.js';

/**
 * Keys that name JavaScript's object prototypes. `JSON.parse` makes `"__proto__"` an own key,
 * but any copy by assignment (`out[k] = v`, `Object.assign`) then replaces the copy's prototype,
 * and a walk through `constructor`/`prototype` reaches `Object.prototype` itself (prototype
 * pollution, issue #13 item 7). Caddy's config has no such keys, so Ferry refuses them wherever
 * config JSON comes from: files, the admin API's paths and bodies.
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isPrototypeKey(key: string): boolean {
  return PROTOTYPE_KEYS.has(key);
}

export function prototypeKeyMessage(key: string): string {
  return `"${key}" is not allowed as a key: it names a JavaScript object prototype (Caddy configs have no such key); rename or remove it`;
}

const isPlain = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * Every prototype key in `json`, by JSON path under `base`: own keys of plain objects and arrays
 * only (code values such as module refs are not config JSON). Iterative, so a deeply nested body
 * cannot overflow the stack.
 */
export function prototypeKeyIssues(json: unknown, base = ''): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<object>();
  const stack: [unknown, string][] = [[json, base]];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], joinPath(path, i)]);
      continue;
    }
    if (!isPlain(value)) continue;
    for (const key of Object.keys(value).reverse()) {
      const at = joinPath(path, key);
      if (isPrototypeKey(key)) issues.push({ path: at, message: prototypeKeyMessage(key) });
      else stack.push([(value as Record<string, unknown>)[key], at]);
    }
  }
  return issues;
}

import { HttpError } from '../errors.js';

/**
 * JSON.parse, with a 400 for text that is not JSON (its own message, which quotes the input, is
 * kept as the cause, not shown) and for keys that would poison a prototype once the value is
 * merged somewhere (`__proto__`, and `constructor.prototype`) — the refusal Fastify makes by
 * default. JSON.parse itself makes such keys plain own properties; `Object.assign`, spreads into
 * class instances and deep-merge helpers are what turn them into prototype changes.
 */
export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'request body is not valid JSON', { cause: err });
  }
  // Such a key is spelt out in the text, or hidden in a \u escape: most bodies skip the walk.
  if (text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')) checkPoison(value);
  return value;
}

/** Walks the parsed value without recursion (V8 parses deeper nesting than the stack holds). */
function checkPoison(root: unknown): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'object' && item !== null) stack.push(item);
      continue;
    }
    if (Object.hasOwn(v, '__proto__')) throw new HttpError(400, 'request body has a "__proto__" key');
    const ctor = (v as Record<string, unknown>).constructor;
    if (Object.hasOwn(v, 'constructor') && typeof ctor === 'object' && ctor !== null && Object.hasOwn(ctor, 'prototype')) {
      throw new HttpError(400, 'request body has a "constructor.prototype" key');
    }
    for (const key in v) {
      const item = (v as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push(item);
    }
  }
}

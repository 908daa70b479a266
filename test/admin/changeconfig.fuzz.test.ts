import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeConfig } from '@ferry/core/internal';

/**
 * The admin path walker under random paths and bodies (issue #13 item 7): whatever it is given,
 * it touches no built-in object, leaves its input alone, returns JSON without prototype keys or
 * holes, and throws nothing but its own 4xx AdminError.
 */

const HOSTILE = ['__proto__', 'constructor', 'prototype'];

/** Built-in objects a walk through a prototype could write to: the prototypes and their methods. */
function builtins(): object[] {
  const roots: object[] = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Object, Array, Function];
  const methods = [Object.prototype, Array.prototype].flatMap((p) =>
    Object.getOwnPropertyNames(p).flatMap((name) => {
      const value = Object.getOwnPropertyDescriptor(p, name)?.value as unknown;
      return typeof value === 'function' ? [value as object] : [];
    }),
  );
  return [...roots, ...methods];
}

const watched = builtins();
const names = () => watched.map((o) => Object.getOwnPropertyNames(o));
const clean = names();

/** Removes what was added to a built-in, and returns what it was (`[]` when nothing). */
function undoPollution(): string[] {
  const added: string[] = [];
  watched.forEach((o, i) => {
    for (const name of Object.getOwnPropertyNames(o)) {
      if (clean[i]!.includes(name)) continue;
      added.push(name);
      delete (o as Record<string, unknown>)[name];
    }
  });
  return added;
}

/** Prototype keys and sparse arrays anywhere in `value`, by own keys only. */
function defects(value: unknown, path = '$', out: string[] = []): string[] {
  if (typeof value !== 'object' || value === null) return out;
  const keys = Object.keys(value);
  if (Array.isArray(value) && keys.length !== value.length) out.push(`${path}: sparse array of length ${value.length}`);
  for (const k of keys) {
    if (HOSTILE.includes(k)) out.push(`${path}.${k}`);
    else defects((value as Record<string, unknown>)[k], `${path}.${k}`, out);
  }
  return out;
}

/** JSON text (so `"__proto__"` arrives as an own key, as from the admin API), keys drawn from `key`. */
function jsonText(key: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const { json } = fc.letrec((tie) => ({
    json: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')) as fc.Arbitrary<string>,
    leaf: fc.oneof(
      fc.constant('null'),
      fc.boolean().map(String),
      fc.integer().map(String),
      fc.string({ maxLength: 6 }).map((s) => JSON.stringify(s)),
    ),
    array: fc.array(tie('json') as fc.Arbitrary<string>, { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    object: fc
      .array(fc.tuple(key, tie('json') as fc.Arbitrary<string>), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  }));
  return json;
}

const ordinaryKey = fc.oneof(
  fc.constantFrom('apps', 'http', 'servers', 's', 'routes', 'listen', 'a', '0', 'toString', 'length'),
  fc.string({ maxLength: 4 }),
);
const anyKey = fc.oneof(fc.constantFrom(...HOSTILE), ordinaryKey);

const segment = fc.oneof(
  fc.constantFrom(
    ...HOSTILE,
    '%5f%5fproto%5f%5f',
    '%5F%5Fproto%5F%5F',
    'constructor%2Fprototype',
    'toString',
    'valueOf',
    'hasOwnProperty',
    '__defineGetter__',
    'length',
    'apps',
    'http',
    'servers',
    's',
    'routes',
    'listen',
    'a',
    '0',
    '1',
    '2',
    '-1',
    '1e0',
    '1000000',
    '%ff',
    '%',
  ),
  fc.string({ maxLength: 6 }),
);

/** A running config as the admin API has it: JSON that the loader accepted (no prototype keys). */
const BASE =
  '{"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:0"],"routes":[{"handle":[{"handler":"vars","a":1}]}]}}}},"a":[1,[2,{"a":"x"}]]}';
const config = fc.oneof(fc.constant(BASE), jsonText(ordinaryKey));

describe('changeConfig under random paths and bodies', () => {
  it('pollutes no built-in, keeps its input, returns dense JSON without prototype keys, and throws only 4xx AdminErrors', () => {
    fc.assert(
      fc.property(
        config,
        fc.constantFrom('GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS'),
        fc.array(segment, { maxLength: 6 }),
        jsonText(anyKey),
        (configText, method, segs, bodyText) => {
          const input = JSON.parse(configText) as unknown;
          let result: unknown;
          let thrown: unknown;
          try {
            result = changeConfig(input, method, `/${segs.join('/')}`, JSON.parse(bodyText));
          } catch (err) {
            thrown = err;
          }
          expect(undoPollution()).toEqual([]);
          expect(JSON.stringify(input)).toBe(JSON.stringify(JSON.parse(configText)));
          if (thrown === undefined) {
            expect(defects(result)).toEqual([]);
          } else {
            expect(thrown).toBeInstanceOf(Error);
            expect((thrown as Error).name, String(thrown)).toBe('AdminError');
            const status = (thrown as { status?: unknown }).status;
            expect(Number.isInteger(status) && (status as number) >= 400 && (status as number) < 500).toBe(true);
          }
        },
      ),
      { numRuns: 5000, seed: 20261205 },
    );
  });
});

describe('changeConfig with hostile sizes', () => {
  it('appends a body of two million items to an array path', () => {
    const items = new Array<number>(2_000_000).fill(0);
    const out = changeConfig({ list: [1] }, 'POST', '/list', items) as { list: number[] };
    expect(out.list).toHaveLength(2_000_001);
  });

  it('refuses to create an item past the end of an array (400), instead of making a sparse one', () => {
    for (const method of ['POST', 'PUT']) {
      expect(() => changeConfig({ list: [1] }, method, '/list/999999999', 2)).toThrow(
        expect.objectContaining({ name: 'AdminError', status: 400 }),
      );
    }
  });
});

/**
 * The request head the proxy writes to an upstream remembers what it checked on each line of the
 * last heads (a client repeats its fields in order): a name, value, method or target equal to one
 * checked before is not checked again, so anything else at that place — one character apart,
 * the same length, or far longer — must still be checked and refused when bad.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RequestHeadError, requestHead } from '../src/transport/h1-request.js';

const send = (headers: Record<string, string | string[]>, method = 'GET', target = '/a') =>
  requestHead(method, target, headers, 'up:80', false, true);

describe('the request head, head after head', () => {
  it('writes each field as given, the same head twice', () => {
    const fields = { host: 'example.com', 'user-agent': 'ua/1', 'x-forwarded-for': '10.0.0.1' };
    const wire = 'GET /a HTTP/1.1\r\nhost: example.com\r\nuser-agent: ua/1\r\nx-forwarded-for: 10.0.0.1\r\nconnection: keep-alive\r\n\r\n';
    expect(send(fields)).toBe(wire);
    expect(send(fields)).toBe(wire);
  });

  it('refuses a bad value at a line where a good one was checked, whatever its length', () => {
    const good = { host: 'example.com', 'x-v': 'abcdef' };
    const long = 'v'.repeat(300);
    for (let i = 0; i < 3; i++) send(good);
    for (const bad of ['abc\r\nX', 'abcde\n', 'abcd\x00f', 'abcdé€', `${long}\r\nX-Injected: 1`]) {
      expect(() => send({ ...good, 'x-v': bad }), JSON.stringify(bad)).toThrow(RequestHeadError);
      send(good);
    }
    send({ ...good, 'x-v': long });
    expect(() => send({ ...good, 'x-v': `${long.slice(1)}\r` }), 'a long value one character apart').toThrow(RequestHeadError);
    expect(() => send({ host: 'example.com', 'x-v': ['abcdef', 'abcde\r'] })).toThrow(RequestHeadError);
  });

  it('refuses a bad name at a line where a good one was checked', () => {
    for (let i = 0; i < 3; i++) send({ host: 'h', 'x-name': '1' });
    for (const bad of ['x-nam(', 'x name', 'x-name\r\n', ''])
      expect(() => send({ host: 'h', [bad]: '1' }), JSON.stringify(bad)).toThrow(RequestHeadError);
  });

  it('refuses a bad method or target after good ones', () => {
    for (let i = 0; i < 3; i++) send({ host: 'h' }, 'GET', '/path');
    for (const [method, target] of [
      ['GE ', '/path'],
      ['', '/path'],
      ['GET', '/pat '],
      ['GET', '/pa\r\n'],
      ['GET', ''],
    ]) {
      expect(() => send({ host: 'h' }, method, target), `${method} ${target}`).toThrow(RequestHeadError);
      send({ host: 'h' }, 'GET', '/path');
    }
    expect(send({ host: 'h' }, 'GET', '/path')).toBe('GET /path HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\n\r\n');
  });

  it('after a head refused half-way, sends the next as itself, not as the head before', () => {
    const before = { host: 'h', 'x-a': '1', 'x-b': '2' };
    send(before);
    expect(send(before)).toContain('x-b: 2\r\n');
    // Refused at its last field, after its second had taken the place of 'x-b: 2'.
    expect(() => send({ host: 'h', 'x-a': '1', 'x-b': '3', 'x-c': '\r' })).toThrow(RequestHeadError);
    expect(send({ host: 'h', 'x-a': '1', 'x-b': '3' })).toBe(
      'GET /a HTTP/1.1\r\nhost: h\r\nx-a: 1\r\nx-b: 3\r\nconnection: keep-alive\r\n\r\n',
    );
    expect(send(before)).toBe('GET /a HTTP/1.1\r\nhost: h\r\nx-a: 1\r\nx-b: 2\r\nconnection: keep-alive\r\n\r\n');
  });

  it('adds Host where the fields have none, checked at its line like any other', () => {
    send({ 'x-a': 'example.com' });
    expect(send({})).toBe('GET /a HTTP/1.1\r\nhost: up:80\r\nconnection: keep-alive\r\n\r\n');
    expect(() => requestHead('GET', '/a', {}, 'up:80\r\nX: 1', false, true)).toThrow(RequestHeadError);
  });
});

/** The head as written before lines were remembered: every line checked and built each time. */
function reference(
  method: string,
  target: string,
  headers: Record<string, string | string[]>,
  host: string,
  chunked: boolean,
  keepAlive: boolean,
) {
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
  if (!TOKEN.test(method) || !/^[\x21-\x7e\x80-\xff]+$/.test(target)) return 'refused';
  let head = `${method} ${target} HTTP/1.1\r\n`;
  let hasHost = false;
  for (const [name, v] of Object.entries(headers)) {
    if (!TOKEN.test(name)) return 'refused';
    if (name.toLowerCase() === 'host') hasHost = true;
    for (const one of Array.isArray(v) ? v : [v]) {
      if (!VALUE.test(one)) return 'refused';
      head += `${name}: ${one}\r\n`;
    }
  }
  if (!hasHost) {
    if (!VALUE.test(host)) return 'refused';
    head += `host: ${host}\r\n`;
  }
  head += keepAlive ? 'connection: keep-alive\r\n' : 'connection: close\r\n';
  if (chunked) head += 'transfer-encoding: chunked\r\n';
  return `${head}\r\n`;
}

describe('the request head, any sequence of heads', () => {
  const long = 'l'.repeat(300);
  // Mostly good parts, so that heads get through whole and repeat; now and then a bad one.
  const mostly = <T>(good: T[], bad: T[]) =>
    fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: fc.constantFrom(...bad) });
  const value = mostly(['1', '2', '', 'v v', 'é', long, `${long.slice(1)}m`], ['a\r\nX: 1', 'a\n', '\x00', '€', `${long}\r`]);
  const field = fc.tuple(
    fc.oneof(
      { weight: 3, arbitrary: mostly(['host', 'Host', 'x-a', 'x-b', 'user-agent', '__proto__'], ['bad name', 'x-a\r\n']) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 80 }).map((i) => `x-f${i}`) },
    ),
    fc.oneof({ weight: 6, arbitrary: value }, { weight: 1, arbitrary: fc.array(value, { maxLength: 3 }) }),
  );
  const request = fc.record({
    method: mostly(['GET', 'POST'], ['G T', '']),
    target: mostly(['/', '/a', `/${long}`], ['/a b', '/\r\n', '']),
    fields: fc.oneof(
      { weight: 6, arbitrary: fc.array(field, { maxLength: 6 }) },
      { weight: 1, arbitrary: fc.array(field, { minLength: 60, maxLength: 75 }) },
      // Past the lines remembered, every part good.
      {
        weight: 1,
        arbitrary: fc.array(
          fc.tuple(
            fc.nat(90).map((i) => `x-f${i}`),
            fc.constantFrom('1', '2'),
          ),
          { minLength: 62, maxLength: 70 },
        ),
      },
    ),
    host: mostly(['up:80'], ['bad\r\nhost']),
    chunked: fc.boolean(),
    keepAlive: fc.boolean(),
  });

  // Steps through a few heads, each sent as it is, with fewer fields, or with other framing:
  // the same head again, a head that is another's start, and one that ends otherwise.
  const step = fc.record({
    which: fc.nat(2),
    keep: fc.option(fc.nat(8)),
    chunked: fc.option(fc.boolean()),
    keepAlive: fc.option(fc.boolean()),
  });

  it('is what checking and building every line would give, or refused alike', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), fc.array(step, { minLength: 1, maxLength: 40 }), (pool, steps) => {
        for (const s of steps) {
          const h = pool[s.which % pool.length]!;
          const headers = Object.fromEntries(s.keep === null ? h.fields : h.fields.slice(0, s.keep)) as Record<string, string | string[]>;
          const chunked = s.chunked ?? h.chunked;
          const keepAlive = s.keepAlive ?? h.keepAlive;
          const want = reference(h.method, h.target, headers, h.host, chunked, keepAlive);
          let got: string;
          try {
            got = requestHead(h.method, h.target, headers, h.host, chunked, keepAlive);
          } catch (err) {
            if (!(err instanceof RequestHeadError)) throw err;
            got = 'refused';
          }
          expect(got).toBe(want);
        }
      }),
      { numRuns: 300, seed: 20261207 },
    );
  });
});

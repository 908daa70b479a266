/**
 * A placeholder rendered into a header field may hold what Node refuses in a field value: text
 * past Latin-1 (a decoded path) or a control character (`%0A`). It goes out as Caddy sends it —
 * UTF-8 bytes, controls as spaces — never as a 500 with a stack trace per request.
 */
import { describe, expect, it } from 'vitest';
import { fieldValue } from '../src/header_ops.js';
import { send, useServers } from './helpers/http.js';

const serve = useServers();

/** Node's client reads field values as Latin-1: back to the bytes on the wire, read as UTF-8. */
const wire = (v: unknown) => Buffer.from(String(v), 'latin1').toString('utf8');

describe('placeholder values in header fields', () => {
  it('static_response sends a decoded path with € and %0A as UTF-8 bytes and a space', async () => {
    const server = await serve({
      routes: [{ handle: [{ handler: 'static_response', headers: { 'x-path': ['{http.request.uri.path}'] }, body: 'ok' }] }],
    });
    const res = await send(server.url, '/%E2%82%AC%0Ab%00c');
    expect(res.status).toBe(200);
    expect(wire(res.headers['x-path'])).toBe('/€ b c');
  });

  it('headers (response set, add and replace) send the same, and the request ops make a value Node accepts', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            {
              handler: 'headers',
              request: { set: { 'x-seen': ['{http.request.uri.path}'] } },
              response: {
                deferred: true,
                set: { 'x-set': ['{http.request.uri.path}'] },
                add: { 'x-add': ['{http.request.uri.path}'] },
                replace: { 'x-r': [{ search: 'v', replace: '{http.request.uri.path}' }] },
              },
            },
            { handler: 'static_response', headers: { 'x-r': ['v'], 'x-echo': ['{http.request.header.x-seen}'] }, body: 'ok' },
          ],
        },
      ],
    });
    const res = await send(server.url, '/%E6%97%A5%0D%0Ax');
    expect(res.status).toBe(200);
    for (const name of ['x-set', 'x-add', 'x-r', 'x-echo']) expect(wire(res.headers[name]), name).toBe('/日  x');
  });

  it('headers ops without placeholders are made field values too: a line break in the config as spaces, € as UTF-8', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            {
              handler: 'headers',
              request: { set: { 'x-in': ['in\r\nX-Smuggled: 1'] } },
              response: { set: { 'x-set': ['a\r\nX-Injected: 1'] }, add: { 'x-add': ['5\x00€'] } },
            },
            { handler: 'static_response', headers: { 'x-echo': ['{http.request.header.x-in}'] }, body: 'ok' },
          ],
        },
      ],
    });
    for (let i = 0; i < 2; i++) {
      const res = await send(server.url, '/');
      expect(res.status).toBe(200);
      expect(res.headers['x-set']).toBe('a  X-Injected: 1');
      expect(res.headers['x-injected']).toBeUndefined();
      expect(wire(res.headers['x-add'])).toBe('5 €');
      expect(res.headers['x-echo']).toBe('in  X-Smuggled: 1');
    }
  });

  it('leaves Latin-1 values (a header as received) as they are, and maps astral and lone surrogates to UTF-8', () => {
    expect(fieldValue('caf\xe9 \t ok')).toBe('caf\xe9 \t ok');
    expect(wire(fieldValue('a😀b'))).toBe('a😀b');
    expect(wire(fieldValue('a\ud800b'))).toBe('a\ufffdb');
    expect(fieldValue('\x7f\x01')).toBe('  ');
  });
});

describe('fixed multi-value fields, appended to by a later handler', () => {
  // The values of a field without placeholders are made once, at provision; each request must get
  // its own copy, or an `add` after a `set` appends to the shared list and the field grows with
  // every request (and so does the heap).
  const add = { handler: 'headers', response: { add: { 'x-multi': ['c'] } } };
  const deferredAdd = { handler: 'headers', response: { deferred: true, add: { 'x-multi': ['d'] } } };
  it.each([
    ['headers set, then add', [{ handler: 'headers', response: { set: { 'x-multi': ['a', 'b'] } } }, add], 'a, b, c'],
    ['headers add, then add', [{ handler: 'headers', response: { add: { 'x-multi': ['a', 'b'] } } }, add], 'a, b, c'],
    ['static_response, with a deferred add', [deferredAdd], 'a, b, d'],
  ])('%s: the same field on every request', async (_name, chain, expected) => {
    const terminal = { handler: 'static_response', headers: chain.length === 1 ? { 'x-multi': ['a', 'b'] } : {}, body: 'ok' };
    const server = await serve({ routes: [{ handle: [...chain, terminal] }] });
    const seen: unknown[] = [];
    for (let i = 0; i < 4; i++) seen.push((await send(server.url, '/')).headers['x-multi']);
    expect(seen).toEqual([expected, expected, expected, expected]);
  });

  it('request ops: a set list later appended to stays the same on every request', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            { handler: 'headers', request: { set: { 'x-in': ['a', 'b'] } } },
            { handler: 'headers', request: { add: { 'x-in': ['c'] } } },
            { handler: 'static_response', headers: { 'x-echo': ['{http.request.header.x-in}'] }, body: 'ok' },
          ],
        },
      ],
    });
    const seen: unknown[] = [];
    for (let i = 0; i < 3; i++) seen.push((await send(server.url, '/')).headers['x-echo']);
    expect(seen).toEqual(['a,b,c', 'a,b,c', 'a,b,c']);
  });
});

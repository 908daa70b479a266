/**
 * Ferry's HTTP/1.1 writer keeps header fields in its own fast store (field_store.ts) instead of
 * Node's null-prototype literal. Field names a client or upstream controls — `__proto__`,
 * `constructor`, `toString`, `hasOwnProperty` — must stay plain fields there: set, read, listed,
 * removed and sent like any other, with nothing inherited and nothing polluted. Checked on the
 * wire with a raw socket, two requests on one connection.
 */
import { describe, expect, it } from 'vitest';
import { checkedField, setCheckedField } from '../src/field_store.js';
import { useServers } from './helpers/http.js';
import { rawClient } from './helpers/raw.js';

const serve = useServers();
const PROTO = '__proto__';
const HOSTILE = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

describe('header fields named like Object.prototype members', () => {
  it('are plain fields: nothing inherited before they are set, sent as set, removable, no pollution', async () => {
    const seen: unknown[] = [];
    const server = await serve({
      handler: async (_req, res) => {
        // Before anything is set, no name finds an inherited member.
        seen.push(HOSTILE.map((n) => res.hasHeader(n)));
        res.setHeader('x-first', '1');
        seen.push(HOSTILE.map((n) => res.hasHeader(n) || res.getHeader(n) !== undefined));
        for (const n of HOSTILE) res.setHeader(n, `v-${n}`);
        res.appendHeader('__proto__', 'second');
        res.removeHeader('toString');
        seen.push(res.getHeaderNames(), res.getHeader('constructor'), res.getHeaders()[PROTO]);
        res.end('ok');
      },
    });
    const client = await rawClient(server.url);
    client.socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    const all = await client.waitFor((s) => s.split('HTTP/1.1 200').length === 3 && s.endsWith('ok'));
    for (const head of all.split('HTTP/1.1 200').slice(1)) {
      expect(head).toContain('\r\n__proto__: v-__proto__\r\n__proto__: second\r\n');
      expect(head).toContain('\r\nconstructor: v-constructor\r\n');
      expect(head).toContain('\r\nhasOwnProperty: v-hasOwnProperty\r\n');
      expect(head).toContain('\r\nvalueOf: v-valueOf\r\n');
      expect(head).not.toMatch(/toString/i);
    }
    expect(seen[0]).toEqual(HOSTILE.map(() => false));
    expect(seen[1]).toEqual(HOSTILE.map(() => false));
    expect(seen[2]).toEqual(['x-first', '__proto__', 'constructor', 'hasownproperty', 'valueof']);
    expect(seen[3]).toBe('v-constructor');
    expect(seen[4]).toEqual(['v-__proto__', 'second']);
    // Nothing reached the shared prototypes.
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect({}.constructor).toBe(Object);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});

describe('fields checked once, when provisioned', () => {
  it('a checked set replaces the field whatever its case, and a later add appends to this response only', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            { handler: 'headers', response: { set: { 'X-ONE': ['0'] } } },
            { handler: 'headers', response: { set: { 'x-One': ['a'] } } },
            { handler: 'headers', response: { add: { 'x-one': ['b'] } } },
            { handler: 'static_response', headers: { 'X-Two': ['c'] }, body: 'ok' },
          ],
        },
      ],
    });
    const client = await rawClient(server.url);
    client.socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n');
    const all = await client.waitFor((s) => s.split('HTTP/1.1 200').length === 4 && s.endsWith('ok'));
    for (const head of all.split('HTTP/1.1 200').slice(1)) {
      expect(head.match(/^x-one:.*$/gim)).toEqual(['x-One: a', 'x-One: b']);
      expect(head).toContain('\r\nX-Two: c\r\n');
      expect(head).toMatch(/\r\ncontent-length: 2\r\n/);
    }
  });

  it('a value Node refuses is not checked: it goes through setHeader on each response, as before', () => {
    expect(checkedField('x-a', 'ok')).toEqual({ name: 'x-a', key: 'x-a', value: 'ok' });
    expect(checkedField('x-a', 'line\nbreak')).toBeUndefined();
    expect(checkedField('bad name', 'ok')).toBeUndefined();
  });

  it('after the head went out, a checked field throws as setHeader does', async () => {
    const field = checkedField('x-late', '1')!;
    let thrown: unknown;
    const server = await serve({
      handler: async (_req, res) => {
        res.flush();
        try {
          setCheckedField(res, field);
        } catch (err) {
          thrown = err;
        }
        res.end('ok');
      },
    });
    const client = await rawClient(server.url);
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const all = await client.waitFor((s) => s.endsWith('ok\r\n0\r\n\r\n'));
    expect(all).not.toContain('x-late');
    expect((thrown as NodeJS.ErrnoException)?.code).toBe('ERR_HTTP_HEADERS_SENT');
  });
});

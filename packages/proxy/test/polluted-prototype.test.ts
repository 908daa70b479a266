/**
 * A polluted Object.prototype (some dependency's merge gone wrong, or an attack on one) must not
 * put fields on the wire: the proxy walks its header records with `for…in`, which also visits
 * inherited enumerable properties, so each walk keeps to own fields. Checked on the bytes the
 * upstream and the client receive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, netUpstream, rawClient, readUntil, startProxy } from './helpers/net.js';
import { portOf } from '@ferry/test-kit/servers';

const KEY = 'x-polluted';

afterEach(() => {
  delete (Object.prototype as Record<string, unknown>)[KEY];
});

describe('a polluted Object.prototype', () => {
  it('puts no field on the request to the upstream nor on the response to the client', async () => {
    const seen = deferred<string>();
    const up = await netUpstream((socket) => {
      let head = '';
      socket.on('data', (c: Buffer) => {
        head += c.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        seen.resolve(head);
        socket.write('HTTP/1.1 200 OK\r\nX-Up: 1\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const client = await rawClient(portOf(proxy));
    Object.defineProperty(Object.prototype, KEY, { value: 'evil', enumerable: true, configurable: true, writable: true });
    client.write('GET / HTTP/1.1\r\nHost: x\r\nX-Client: 1\r\n\r\n');
    const answer = (await readUntil(client, (b) => b.includes('\r\n\r\nok'))).toString('latin1');
    const request = await seen.promise;
    delete (Object.prototype as Record<string, unknown>)[KEY];
    expect(request, request).toMatch(/\r\nx-client: 1\r\n/);
    expect(request, request).not.toContain(KEY);
    expect(answer, answer).toMatch(/\r\nx-up: 1\r\n/);
    expect(answer, answer).not.toContain(KEY);
  });
});

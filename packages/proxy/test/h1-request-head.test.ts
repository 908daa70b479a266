/**
 * The request head the proxy writes to an upstream remembers what it checked on each line of the
 * last heads (a client repeats its fields in order): a name, value, method or target equal to one
 * checked before is not checked again, so anything else at that place — one character apart,
 * the same length, or far longer — must still be checked and refused when bad.
 */
import { describe, expect, it } from 'vitest';
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

  it('adds Host where the fields have none, checked at its line like any other', () => {
    send({ 'x-a': 'example.com' });
    expect(send({})).toBe('GET /a HTTP/1.1\r\nhost: up:80\r\nconnection: keep-alive\r\n\r\n');
    expect(() => requestHead('GET', '/a', {}, 'up:80\r\nX: 1', false, true)).toThrow(RequestHeadError);
  });
});

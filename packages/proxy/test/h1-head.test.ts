/**
 * The response head parser remembers the last heads' field names by line (an upstream repeats
 * them in order): a line that only looks like the name its position held before must still read
 * as itself, and a bad line must still be refused after good heads taught the positions. It also
 * remembers the last whole head: the same text again gives the same head, frozen (a change throws),
 * lists are each caller's own, and any other text (the same length, one character apart, or bad)
 * must be read as itself.
 */
import { describe, expect, it } from 'vitest';
import { parseHead, ResponseParseError } from '../src/transport/h1-head.js';

const head = (...fields: string[]) => ['HTTP/1.1 200 OK', ...fields].join('\r\n');
const fieldsOf = (text: string) => parseHead(text).headers;

describe('the response head parser, head after head', () => {
  it('reads a name that extends, shortens or re-cases the one its line held before as itself', () => {
    expect(fieldsOf(head('X-A: 1', 'Content-Type: text/plain'))).toEqual({ 'x-a': '1', 'content-type': 'text/plain' });
    expect(fieldsOf(head('X-A: 2', 'Content-Type: text/html'))).toEqual({ 'x-a': '2', 'content-type': 'text/html' });
    expect(fieldsOf(head('X-AB: 3', 'Content-Typ: x'))).toEqual({ 'x-ab': '3', 'content-typ': 'x' });
    expect(fieldsOf(head('X-A:4', 'content-type:y'))).toEqual({ 'x-a': '4', 'content-type': 'y' });
    expect(fieldsOf(head('x-a: 5', 'X-A: 6'))).toEqual({ 'x-a': ['5', '6'] });
    expect(fieldsOf(head('X-A-: 7'))).toEqual({ 'x-a-': '7' });
  });

  it('refuses a bad line at a position a good name taught', () => {
    for (let i = 0; i < 3; i++) fieldsOf(head('X-A: 1', 'Server: s'));
    const bad = [
      head('X-A : 1'), // space before the colon
      head('X-A: 1', ' Server: s'), // obs-fold
      head('X-A: 1', 'Server s'), // no colon
      head('X-A: 1', 'Serv(r: s'), // not a token
      head('X-A: 1', ': s'), // empty name
      head('X-A: 1\rServer: s'), // a CR alone
      head('X-A: 1\nServer: s'), // an LF alone
      head('X-A: 1\x00', 'Server: s'), // a control character
    ];
    for (const text of bad) expect(() => parseHead(text), JSON.stringify(text)).toThrow(ResponseParseError);
    // What the positions learned is still right afterwards.
    expect(fieldsOf(head('X-A: 1', 'Server: s'))).toEqual({ 'x-a': '1', server: 's' });
  });

  it('names a lone CR or LF and a control character apart', () => {
    expect(() => parseHead(head('A: 1\rB: 2'))).toThrow('a CR or LF alone in the head');
    expect(() => parseHead(head('A: 1\n'))).toThrow('a CR or LF alone in the head');
    expect(() => parseHead(head('A: 1\x7f'))).toThrow('a control character in the head');
    expect(() => parseHead(head('A: \x01\r'))).toThrow('a control character in the head');
  });

  it('keeps its memory of lines bounded: a head of 2,000 fields reads whole, twice', () => {
    const many = Array.from({ length: 2000 }, (_, i) => `X-F${i}: ${i}`);
    for (let round = 0; round < 2; round++) {
      const h = fieldsOf(head(...many));
      expect(Object.keys(h)).toHaveLength(2000);
      expect(h['x-f1999']).toBe('1999');
    }
  });

  it('joins a repeated field into a list wherever it repeats, and only then, head after head', () => {
    expect(fieldsOf(head('A: 1', 'B: 2', 'C: 3', 'D: 4'))).toEqual({ a: '1', b: '2', c: '3', d: '4' });
    expect(fieldsOf(head('A: 1', 'A: 2', 'C: 3', 'B: 4'))).toEqual({ a: ['1', '2'], c: '3', b: '4' });
    expect(fieldsOf(head('B: 1', 'C: 2', 'D: 3', 'C: 4'))).toEqual({ b: '1', c: ['2', '4'], d: '3' });
    const many = Array.from({ length: 40 }, (_, i) => `X-${i % 35}: ${i}`);
    const h = fieldsOf(head(...many));
    expect(Object.keys(h)).toHaveLength(35);
    expect(h['x-0']).toEqual(['0', '35']);
    expect(h['x-4']).toEqual(['4', '39']);
    expect(h['x-5']).toBe('5');
    expect(fieldsOf(head('Set-Cookie: a=1'))).toEqual({ 'set-cookie': ['a=1'] });
  });

  it('takes no inherited property for a field that came before', () => {
    Object.defineProperty(Object.prototype, 'x-inherited', { value: 'evil', enumerable: true, configurable: true, writable: true });
    try {
      const early = fieldsOf(head('X-Inherited: 1'));
      const late = fieldsOf(head(...Array.from({ length: 40 }, (_, i) => `X-${i}: ${i}`), 'X-Inherited: 2'));
      expect(Object.getOwnPropertyDescriptor(early, 'x-inherited')?.value).toBe('1');
      expect(Object.getOwnPropertyDescriptor(late, 'x-inherited')?.value).toBe('2');
    } finally {
      delete (Object.prototype as Record<string, unknown>)['x-inherited'];
    }
  });
});

describe('the response head parser, the same head again', () => {
  it('hands every caller the same frozen head: a change throws and never reaches the next answer', () => {
    const text = head('Content-Type: text/plain', 'Content-Length: 13', 'Connection: keep-alive');
    const first = parseHead(text);
    expect(() => {
      first.headers.via = '1.1 ferry';
    }).toThrow(TypeError);
    expect(() => delete first.headers['content-length']).toThrow(TypeError);
    expect(() => {
      first.status = 502;
    }).toThrow(TypeError);
    const second = parseHead(text);
    expect(second).toBe(first);
    expect(second).toEqual({
      version: 1,
      status: 200,
      statusText: 'OK',
      headers: { 'content-type': 'text/plain', 'content-length': '13', connection: 'keep-alive' },
    });
  });

  it('gives each caller its own lists', () => {
    const text = head('Set-Cookie: a=1', 'Set-Cookie: b=2', 'Vary: A', 'Vary: B');
    const first = parseHead(text);
    (first.headers['set-cookie'] as string[]).push('lb=x');
    (first.headers.vary as string[]).length = 0;
    expect(parseHead(text).headers).toEqual({ 'set-cookie': ['a=1', 'b=2'], vary: ['A', 'B'] });
  });

  it('reads a head of the same length that differs in one character as itself, and refuses a bad one', () => {
    const good = head('Date: Mon, 07 Dec 2026 14:36:38 GMT', 'Content-Length: 13');
    expect(parseHead(good).headers.date).toBe('Mon, 07 Dec 2026 14:36:38 GMT');
    const next = good.replace('14:36:38', '14:36:39');
    expect(next.length).toBe(good.length);
    expect(parseHead(next).headers.date).toBe('Mon, 07 Dec 2026 14:36:39 GMT');
    parseHead(good);
    for (const bad of [
      good.replace('38 GMT', '38\x00GMT'),
      good.replace(': 13', ':\r13'),
      good.replace('HTTP/1.1 200', 'HTTP/1.1 0200'.slice(1)),
    ])
      expect(() => parseHead(bad), JSON.stringify(bad)).toThrow(ResponseParseError);
    expect(parseHead(head('Date: x', 'Content-Length: 13')).headers).toEqual({ date: 'x', 'content-length': '13' });
  });

  it('reads a long head again whole, and its status each time', () => {
    const long = head(...Array.from({ length: 200 }, (_, i) => `X-Long-${i}: ${'v'.repeat(20)}`));
    expect(long.length).toBeGreaterThan(2048);
    for (let i = 0; i < 2; i++) expect(Object.keys(parseHead(long).headers)).toHaveLength(200);
    const notFound = head('Content-Length: 0').replace('200 OK', '404 Not Found');
    for (let i = 0; i < 2; i++) expect(parseHead(notFound)).toMatchObject({ status: 404, statusText: 'Not Found' });
  });
});

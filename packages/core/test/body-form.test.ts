/**
 * `req.formData()` with real clients (fetch's own multipart encoder, node:http, raw bytes):
 * urlencoded and multipart bodies, files intact, and every limit a refusal — never a silent cut.
 */
import { createHash, randomBytes } from 'node:crypto';
import { h1Get } from '@ferry/test-kit/clients';
import { describe, expect, it } from 'vitest';
import type { FerryRequest, ResponseWriter } from '../src/index.js';
import { send, useServers } from './helpers/http.js';

const serve = useServers();

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Answers with the form's entries in order; files as name, type, size and digest. */
async function echoForm(req: FerryRequest, res: ResponseWriter): Promise<void> {
  const limit = req.query.get('limit');
  const form = await req.formData(limit ? { limit: Number(limit) } : undefined);
  const out: unknown[] = [];
  for (const [name, value] of form) {
    out.push(
      typeof value === 'string'
        ? [name, value]
        : [name, value.name, value.type, value.size, sha(new Uint8Array(await value.arrayBuffer()))],
    );
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(out));
}

const urlencoded = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

/** A multipart body by hand, for what fetch would never send. */
function multipart(parts: string[], boundary = 'XyZ'): { method: string; headers: Record<string, string>; body: string } {
  return {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: `${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`,
  };
}

describe('req.formData(): urlencoded', () => {
  it('parses fields in order, repeated names, + and percent-encodings', async () => {
    const server = await serve({ handler: echoForm });
    const res = await send(server.url, '/', urlencoded('a=1&b=x+y&a=%E2%82%AC&empty=&c'));
    expect(JSON.parse(res.body)).toEqual([
      ['a', '1'],
      ['b', 'x y'],
      ['a', '€'],
      ['empty', ''],
      ['c', ''],
    ]);
  });

  it('__proto__ and constructor are just names: nothing is polluted', async () => {
    const server = await serve({ handler: echoForm });
    const res = await send(server.url, '/', urlencoded('__proto__=1&__proto__%5Bpolluted%5D=1&constructor%5Bprototype%5D%5Bx%5D=1'));
    expect(JSON.parse(res.body)).toEqual([
      ['__proto__', '1'],
      ['__proto__[polluted]', '1'],
      ['constructor[prototype][x]', '1'],
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a flood of tiny fields is a 413 past 1000 fields', async () => {
    const server = await serve({ handler: echoForm });
    const ok = await send(server.url, '/', urlencoded(Array.from({ length: 1000 }, () => 'a=').join('&')));
    expect(JSON.parse(ok.body)).toHaveLength(1000);
    for (const tail of ['', '&']) {
      const flood = await send(server.url, '/', urlencoded(Array.from({ length: 1001 }, () => 'a=').join('&') + tail));
      expect([flood.status, flood.body]).toEqual([413, 'request body has more than 1000 form fields\n']);
    }
    const huge = await send(server.url, '/', urlencoded('&a'.repeat(200_000)));
    expect(huge.status).toBe(413);
  });

  it('a body past the limit is a 413; a field name past 1 KiB too', async () => {
    const server = await serve({ handler: echoForm });
    expect((await send(server.url, '/?limit=10', urlencoded('a=123456789'))).status).toBe(413);
    expect((await send(server.url, '/', urlencoded(`${'n'.repeat(1025)}=1`))).status).toBe(413);
    expect((await send(server.url, '/', urlencoded(`${'n'.repeat(1024)}=1`))).status).toBe(200);
  });

  it('a charset busboy cannot decode is a 415; latin1 is decoded', async () => {
    const server = await serve({ handler: echoForm });
    const type = (charset: string) => ({ 'content-type': `application/x-www-form-urlencoded; charset=${charset}` });
    expect((await send(server.url, '/', { method: 'POST', headers: type('shift_jis'), body: 'a=1' })).status).toBe(415);
    const latin1 = await h1Get(server.url, { method: 'POST', headers: type('ISO-8859-1'), body: Buffer.from('a=caf%E9') });
    expect(JSON.parse(latin1.body.toString())).toEqual([['a', 'café']]);
  });
});

describe('req.formData(): multipart', () => {
  it('a file arrives intact beside the fields, from fetch', async () => {
    const server = await serve({ handler: echoForm });
    const bytes = randomBytes(700_000);
    const form = new FormData();
    form.append('title', 'holiday ✈');
    form.append('photo', new File([bytes], 'été.jpg', { type: 'image/jpeg' }));
    form.append('empty', new File([], 'nothing.txt', { type: 'text/plain' }));
    form.append('note', '');
    const res = await fetch(server.url, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      ['title', 'holiday ✈'],
      ['photo', 'été.jpg', 'image/jpeg', bytes.length, sha(bytes)],
      ['empty', 'nothing.txt', 'text/plain', 0, sha(new Uint8Array())],
      ['note', ''],
    ]);
  });

  it('a file name keeps only its last segment', async () => {
    const server = await serve({ handler: echoForm });
    const res = await send(
      server.url,
      '/',
      multipart([
        'Content-Disposition: form-data; name="f"; filename="../../etc/passwd"\r\nContent-Type: text/plain\r\n\r\nroot',
        `Content-Disposition: form-data; name="g"; filename="..\\\\win.ini"\r\n\r\nx`,
      ]),
    );
    expect(JSON.parse(res.body).map((e: unknown[]) => e[1])).toEqual(['passwd', 'win.ini']);
  });

  it('__proto__ as a field name or file name is just a name', async () => {
    const server = await serve({ handler: echoForm });
    const res = await send(
      server.url,
      '/',
      multipart([
        'Content-Disposition: form-data; name="__proto__"\r\n\r\n{"polluted":1}',
        'Content-Disposition: form-data; name="constructor"; filename="__proto__"\r\n\r\nx',
      ]),
    );
    expect(JSON.parse(res.body)[0]).toEqual(['__proto__', '{"polluted":1}']);
    expect(JSON.parse(res.body)[1].slice(0, 2)).toEqual(['constructor', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a flood of fields, of files or of nameless parts is a 413', async () => {
    const server = await serve({ handler: echoForm });
    const fields = await send(
      server.url,
      '/',
      multipart(Array.from({ length: 1001 }, (_, i) => `Content-Disposition: form-data; name="f${i}"\r\n\r\n`)),
    );
    expect([fields.status, fields.body]).toEqual([413, 'request body has more than 1000 form fields\n']);
    const files = await send(
      server.url,
      '/',
      multipart(Array.from({ length: 101 }, (_, i) => `Content-Disposition: form-data; name="f"; filename="${i}"\r\n\r\n`)),
    );
    expect([files.status, files.body]).toEqual([413, 'request body has more than 100 files\n']);
    // Parts busboy skips (no Content-Disposition) still count.
    const skipped = await send(server.url, '/', multipart(Array.from({ length: 1200 }, () => 'X-Nothing: 1\r\n\r\n')));
    expect([skipped.status, skipped.body]).toEqual([413, 'request body has more than 1100 parts\n']);
  });

  it('a body past the limit is a 413, a file included; the default for multipart is 10 MiB', async () => {
    const server = await serve({ handler: echoForm });
    const form = new FormData();
    form.append('f', new File([randomBytes(2000)], 'a.bin'));
    expect((await fetch(`${server.url}/?limit=1000`, { method: 'POST', body: form })).status).toBe(413);
    const big = new FormData();
    big.append('f', new File([new Uint8Array(10 * 1024 * 1024)], 'big.bin'));
    expect((await fetch(server.url, { method: 'POST', body: big })).status).toBe(413);
    const fits = new FormData();
    fits.append('f', new File([new Uint8Array(9 * 1024 * 1024)], 'fits.bin'));
    expect((await fetch(server.url, { method: 'POST', body: fits })).status).toBe(200);
  });

  it('a malformed body is a 400', async () => {
    const server = await serve({ handler: echoForm });
    const unterminated = multipart(['Content-Disposition: form-data; name="a"\r\n\r\n1']);
    unterminated.body = unterminated.body.replace(/--XyZ--\r\n$/, '');
    expect((await send(server.url, '/', unterminated)).status).toBe(400);
    const noBoundary = { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' };
    expect((await send(server.url, '/', noBoundary)).status).toBe(400);
    const badHeader = multipart([`Content-Disposition: form-data; name="a"\r\n${'x'.repeat(20_000)}\r\n\r\n1`]);
    expect((await send(server.url, '/', badHeader)).status).toBe(400);
    const nameless = multipart(['Content-Disposition: form-data\r\n\r\n1']);
    expect([(await send(server.url, '/', nameless)).status]).toEqual([400]);
  });

  it('another Content-Type is a 415', async () => {
    const server = await serve({ handler: echoForm });
    for (const type of ['application/json', 'text/plain', 'multipart/mixed; boundary=x']) {
      const res = await send(server.url, '/', { method: 'POST', headers: { 'content-type': type }, body: 'a=1' });
      expect([type, res.status]).toEqual([type, 415]);
    }
  });
});

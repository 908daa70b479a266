/**
 * `req.json()`, `req.text()`, `req.arrayBuffer()` with real clients: what each accepts, and the
 * status each refusal gets (415, 413, 400) — as HttpErrors that reach the error routes.
 */
import { randomBytes } from 'node:crypto';
import { h1Get } from '@ferry/test-kit/clients';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type FerryRequest, type ResponseWriter, staticResponse } from '../src/index.js';
import { send, useServers } from './helpers/http.js';

const serve = useServers();

const json = (body: string, type = 'application/json') => ({ method: 'POST', headers: { 'content-type': type }, body });

/** Answers with the parsed body, as JSON. */
async function echoJson(req: FerryRequest, res: ResponseWriter): Promise<void> {
  const value = await req.json();
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ value }));
}

describe('req.json()', () => {
  it('parses a JSON body', async () => {
    const server = await serve({ handler: echoJson });
    const res = await send(server.url, '/', json('{"a":[1,2,{"b":"ü"}]}'));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ value: { a: [1, 2, { b: 'ü' }] } });
  });

  it('accepts every +json type and an explicit UTF-8 charset', async () => {
    const server = await serve({ handler: echoJson });
    for (const type of ['application/problem+json', 'application/ld+json; charset=UTF-8', 'Application/JSON;charset="utf-8"']) {
      const res = await send(server.url, '/', json('1', type));
      expect([type, res.status, res.body]).toEqual([type, 200, '{"value":1}']);
    }
  });

  it('malformed JSON is a 400 that does not repeat the body', async () => {
    const server = await serve({ handler: echoJson });
    for (const body of ['{"a":', '', '{"<script>alert(1)</script>": }', "{'a':1}", '[1,]']) {
      const res = await send(server.url, '/', json(body));
      expect(res.status).toBe(400);
      expect(res.body).toBe('request body is not valid JSON\n');
    }
  });

  it('another Content-Type, or none, is a 415', async () => {
    const server = await serve({ handler: echoJson });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'json', '']) {
      const res = await send(server.url, '/', json('{}', type));
      expect([type, res.status]).toEqual([type, 415]);
      expect(res.body).toBe('request body must be JSON (Content-Type: application/json)\n');
    }
    const none = await send(server.url, '/', { method: 'POST', body: '{}' });
    expect(none.status).toBe(415);
  });

  it('a charset other than UTF-8 is a 415, and bytes that are not UTF-8 a 400', async () => {
    const server = await serve({ handler: echoJson });
    expect((await send(server.url, '/', json('{}', 'application/json; charset=iso-8859-1'))).status).toBe(415);
    expect((await send(server.url, '/', json('{}', 'application/json; charset=no-such-thing'))).status).toBe(415);
    const bad = await h1Get(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from([0x22, 0xc3, 0x28, 0x22]),
    });
    expect([bad.status, bad.body.toString()]).toEqual([400, 'request body is not valid utf-8\n']);
  });

  it('a body past the limit option is a 413; the default is 1 MiB', async () => {
    const server = await serve({
      handler: async (req, res) => {
        const small = req.query.get('small') !== null;
        const value = await req.json(small ? { limit: 10 } : undefined);
        res.end(typeof value);
      },
    });
    expect((await send(server.url, '/?small', json('"0123456"'))).status).toBe(200);
    const over = await send(server.url, '/?small', json('"012345678"'));
    expect([over.status, over.body]).toEqual([413, 'request body larger than 10 bytes\n']);
    const mib = 1024 * 1024;
    expect((await send(server.url, '/', json(`"${'x'.repeat(mib - 2)}"`))).status).toBe(200);
    expect((await send(server.url, '/', json(`"${'x'.repeat(mib - 1)}"`))).status).toBe(413);
  });

  it('keys that would poison a prototype are a 400, however they are spelt, and pollute nothing', async () => {
    const server = await serve({ handler: echoJson });
    for (const body of [
      '{"__proto__":{"polluted":1}}',
      '{"a":[{"b":{"__proto__":{"polluted":1}}}]}',
      '{"\\u005f_proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '[{"constructor":{"\\u0070rototype":{"polluted":1}}}]',
    ]) {
      const res = await send(server.url, '/', json(body));
      expect([body, res.status]).toEqual([body, 400]);
      expect(res.body).toMatch(/^request body has a "(__proto__|constructor\.prototype)" key\n$/);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Innocent uses of the words stay fine.
    const fine = await send(server.url, '/', json('{"constructor":"Ada","proto":"__proto__","c":{"constructor":{"name":1}}}'));
    expect(fine.status).toBe(200);
  });

  it('deeply nested JSON is parsed (and checked for poisoned keys) without exhausting the stack', async () => {
    const server = await serve({ handler: async (req, res) => void res.end(String(Array.isArray(await req.json()))) });
    const depth = 200_000;
    const res = await send(server.url, '/', json(`${'['.repeat(depth)}"\\u0041"${']'.repeat(depth)}`));
    expect([res.status, res.body]).toEqual([200, 'true']);
    const poisoned = await send(server.url, '/', json(`${'['.repeat(depth)}{"__proto__":1}${']'.repeat(depth)}`));
    expect(poisoned.status).toBe(400);
  });

  it('reading the body twice is a clear error: BodyUsedError, a 500', async () => {
    const seen: unknown[] = [];
    const server = await serve({
      handler: async (req, res) => {
        await req.text();
        seen.push(req.bodyUsed);
        try {
          await req.json();
        } catch (err) {
          seen.push((err as { code?: string }).code);
          throw err;
        }
        res.end();
      },
    });
    const res = await send(server.url, '/', json('{}'));
    expect(res.status).toBe(500);
    expect(res.body).toBe('Internal Server Error\n');
    expect(seen).toEqual([true, 'FERRY_ERR_BODY_USED']);
  });

  it('a body already read as a stream cannot be read again', async () => {
    const server = await serve({
      handler: async (req, res) => {
        for await (const _ of req.body);
        const code = await req.text().then(
          () => 'read',
          (err: { code?: string }) => err.code,
        );
        res.end(code);
      },
    });
    expect((await send(server.url, '/', json('{}'))).body).toBe('FERRY_ERR_BODY_USED');
  });

  it('refusals reach the error routes as {http.error.status_code} and {http.error.message}', async () => {
    const server = await serve({
      handler: echoJson,
      errors: {
        routes: [
          {
            handle: [staticResponse({ statusCode: '{http.error.status_code}', body: 'E {http.error.status_code}: {http.error.message}' })],
          },
        ],
      },
    });
    const bad = await send(server.url, '/', json('{'));
    expect([bad.status, bad.body]).toEqual([400, 'E 400: request body is not valid JSON']);
    const type = await send(server.url, '/', json('{}', 'text/plain'));
    expect([type.status, type.body]).toEqual([415, 'E 415: request body must be JSON (Content-Type: application/json)']);
  });
});

describe('req.json(schema)', () => {
  const User = z.strictObject({
    user: z.object({ email: z.email(), age: z.number().int().min(0) }),
    tags: z.array(z.string()).max(3),
  });

  const validated = async (req: FerryRequest, res: ResponseWriter) => {
    const body = await req.json(User);
    // Typed as the schema's output: no cast needed.
    const email: string = body.user.email;
    res.end(`${email} ${body.tags.length}`);
  };

  it('returns the validated value', async () => {
    const server = await serve({ handler: validated });
    const res = await send(server.url, '/', json('{"user":{"email":"a@example.com","age":3},"tags":["x"]}'));
    expect([res.status, res.body]).toEqual([200, 'a@example.com 1']);
  });

  it('a value the schema refuses is a 400 naming each failing path', async () => {
    const server = await serve({ handler: validated });
    const res = await send(server.url, '/', json('{"user":{"email":"nope","age":-1},"tags":["x",2]}'));
    expect(res.status).toBe(400);
    expect(res.body).toBe(
      'body.user.email: Invalid email address; body.user.age: Too small: expected number to be >=0; body.tags[1]: Invalid input: expected string, received number\n',
    );
  });

  it('keys the client chose are quoted and escaped, never repeated raw', async () => {
    const server = await serve({ handler: validated });
    const res = await send(server.url, '/', json('{"user":{"email":"a@example.com","age":1},"tags":[],"<img src=x onerror=alert(1)>":1}'));
    expect(res.status).toBe(400);
    expect(res.body).toBe('body: unrecognized key "\\u003cimg src=x onerror=alert(1)\\u003e"\n');
    const rec = await serve({
      handler: async (req, res) => void res.end(String(await req.json(z.record(z.string(), z.number())))),
    });
    const bad = await send(rec.url, '/', json('{"a\\nb\\u2028<>":"x"}'));
    expect(bad.body).toBe('body["a\\u000ab\\u2028\\u003c\\u003e"]: Invalid input: expected number, received string\n');
  });

  it('lists ten problems and counts the rest', async () => {
    const server = await serve({ handler: async (req, res) => void res.end(String(await req.json(z.array(z.string())))) });
    const res = await send(server.url, '/', json(JSON.stringify(Array.from({ length: 25 }, (_, i) => i))));
    expect(res.status).toBe(400);
    expect(res.body.split('; ')).toHaveLength(11);
    expect(res.body).toMatch(/^body\[0\]: .*; body\[9\]: [^;]*; and 15 more\n$/);
  });

  it('a recursive schema on deeply nested JSON is a 400, not a crash', async () => {
    type Tree = Tree[];
    const Tree: z.ZodType<Tree> = z.lazy(() => z.array(Tree));
    const server = await serve({ handler: async (req, res) => void res.end(String((await req.json(Tree)).length)) });
    const depth = 100_000;
    const res = await send(server.url, '/', json(`${'['.repeat(depth)}${']'.repeat(depth)}`));
    expect([res.status, res.body]).toEqual([400, 'request body is nested too deeply to validate\n']);
    expect((await send(server.url, '/', json('[[],[[]]]'))).body).toBe('2');
  });
});

describe('req.text() and req.arrayBuffer()', () => {
  it('text() decodes in the charset of the Content-Type, UTF-8 by default', async () => {
    const server = await serve({ handler: async (req, res) => void res.end(JSON.stringify(await req.text())) });
    const latin1 = await h1Get(server.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=iso-8859-1' },
      body: Buffer.from([0x63, 0x61, 0x66, 0xe9]),
    });
    expect(latin1.body.toString()).toBe('"café"');
    expect((await send(server.url, '/', { method: 'POST', body: 'é' })).body).toBe('"é"');
    const bad = await h1Get(server.url, { method: 'POST', body: Buffer.from([0xff, 0xfe, 0xfd]) });
    expect(bad.status).toBe(400);
    const unknown = await send(server.url, '/', { method: 'POST', headers: { 'content-type': 'text/plain; charset=x-evil' }, body: 'a' });
    expect([unknown.status, unknown.body]).toEqual([415, 'request body charset is not supported\n']);
  });

  it('arrayBuffer() returns the bytes intact, whatever the Content-Type', async () => {
    const server = await serve({
      handler: async (req, res) => void res.end(Buffer.from(await req.arrayBuffer())),
    });
    const bytes = randomBytes(300_000);
    const res = await h1Get(server.url, { method: 'POST', headers: { 'content-type': 'image/png' }, body: bytes });
    expect(res.status).toBe(200);
    expect(res.body.equals(bytes)).toBe(true);
  });

  it('an empty body is an empty string and an empty ArrayBuffer', async () => {
    const server = await serve({
      handler: async (req, res) => void res.end(req.method === 'GET' ? `[${await req.text()}]` : `${(await req.arrayBuffer()).byteLength}`),
    });
    expect((await send(server.url, '/')).body).toBe('[]');
    expect((await send(server.url, '/', { method: 'POST', body: '' })).body).toBe('0');
  });

  it('a limit option that is not a count is a TypeError (500), never a lifted limit', async () => {
    const server = await serve({ handler: async (req, res) => void res.end(await req.text({ limit: -1 })) });
    expect((await send(server.url, '/', { method: 'POST', body: 'x' })).status).toBe(500);
  });
});

import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';

const example = readmeExample(
  { example: new URL('./build-an-api.ts', import.meta.url), readme: new URL('../../docs/getting-started.md', import.meta.url) },
  () => import('./build-an-api.js'),
);
const url = (path: string) => `${example.server.url}${path}`;
const json = (body: unknown, cookie?: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
  body: JSON.stringify(body),
});

async function login(name: string): Promise<string> {
  const res = await fetch(url('/login'), json({ name }));
  expect(res.status).toBe(200);
  const [setCookie] = res.headers.getSetCookie();
  return setCookie!.split(';')[0]!;
}

async function newNote(cookie: string, text: string): Promise<{ id: string; owner: string; text: string }> {
  const res = await fetch(url('/notes'), json({ text }, cookie));
  expect(res.status).toBe(201);
  const note = await res.json();
  expect(res.headers.get('location')).toBe(`/notes/${note.id}`);
  return note;
}

it('getting-started shows the "Build an API" walk-through exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('logs in with a validated JSON body and answers with a session cookie with safe attributes', async () => {
  const res = await fetch(url('/login'), json({ name: 'ada' }));
  expect(await res.json()).toEqual({ name: 'ada' });
  const [setCookie] = res.headers.getSetCookie();
  expect(setCookie).toMatch(/^session=[0-9a-f-]{36}; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax$/);
  expect(res.headers.get('server-timing')).toMatch(/^app;dur=\d+\.\d$/);
});

it('refuses bad bodies with the status that says why, naming the failing field', async () => {
  const cookie = await login('bob');
  const invalid = await fetch(url('/notes'), json({ text: 5 }, cookie));
  expect(invalid.status).toBe(400);
  expect(await invalid.text()).toMatch(/body\.text: /);
  const malformed = await fetch(url('/notes'), { ...json({}, cookie), body: '{"text": "unterminated' });
  expect(malformed.status).toBe(400);
  const wrongType = await fetch(url('/notes'), { ...json({}, cookie), headers: { 'content-type': 'text/plain', cookie } });
  expect(wrongType.status).toBe(415);
  const tooBig = await fetch(url('/login'), json({ name: 'x'.repeat(2 * 1024 * 1024) }));
  expect(tooBig.status).toBe(413);
  const anonymous = await fetch(url('/notes'), json({ text: 'hi' }));
  expect(anonymous.status).toBe(401);
  expect(await anonymous.text()).toBe('log in first\n');
});

it('reads a note by its id param, decoded, and only for its owner', async () => {
  const ada = await login('ada');
  const note = await newNote(ada, 'first line');
  const res = await fetch(url(`/notes/${note.id}`), { headers: { cookie: ada } });
  expect(await res.json()).toEqual(note);
  const eve = await login('eve');
  expect((await fetch(url(`/notes/${note.id}`), { headers: { cookie: eve } })).status).toBe(404);
  const encoded = await fetch(url('/notes/a%2Fb%20c'), { headers: { cookie: ada } });
  expect(encoded.status).toBe(404);
  expect(await encoded.text()).toBe('no note a/b c\n');
  const other = await fetch(url(`/notes/${note.id}/nope`), { headers: { cookie: ada } });
  expect(await other.text()).toBe('no such endpoint\n');
});

it('takes a multipart upload with a file', async () => {
  const cookie = await login('ada');
  const note = await newNote(cookie, 'with a file');
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(70_000).fill(7)]), 'photo.bin');
  const res = await fetch(url(`/notes/${note.id}/attachment`), { method: 'PUT', headers: { cookie }, body: form });
  expect(res.status).toBe(200);
  expect((await res.json()).attachment).toEqual({ name: 'photo.bin', size: 70_000 });
});

it('streams the export through encode with pipeline, Server-Timing set by onHead before the head', async () => {
  const cookie = await login('ada');
  const text = Array.from({ length: 200 }, (_, n) => `line ${n}`).join('\n');
  const note = await newNote(cookie, text);
  const { headers, body } = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request(url(`/notes/${note.id}/export`), { headers: { cookie, 'accept-encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  expect(headers['content-encoding']).toBe('gzip');
  expect(headers['server-timing']).toMatch(/^app;dur=\d+\.\d$/);
  const expected = text
    .split('\n')
    .map((line, n) => `${n + 1}\t${line}\n`)
    .join('');
  expect(gunzipSync(body).toString()).toBe(expected);
});

it('answers a CORS preflight from the allowed origin itself, and refuses others', async () => {
  const preflight = (origin: string) =>
    fetch(url('/notes'), {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
  const ok = await preflight('http://localhost:5173');
  expect(ok.status).toBe(204);
  expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
  expect(ok.headers.get('access-control-allow-methods')).toMatch(/POST/);
  const refused = await preflight('https://evil.example');
  expect(refused.status).toBe(403);
  expect(refused.headers.get('access-control-allow-origin')).toBeNull();
});

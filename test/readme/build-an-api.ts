import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cors, createServer, HttpError, type Middleware, type ResponseWriter, route, staticResponse, z } from '@ferry/core';
import { encode } from '@ferry/encode';

interface Note {
  id: string;
  owner: string;
  text: string;
  attachment?: { name: string; size: number };
}
const notes = new Map<string, Note>();
const sessions = new Map<string, string>(); // session id → user name; a real app uses a store

const Login = z.object({ name: z.string().min(1).max(64) });
const NewNote = z.object({ text: z.string().min(1).max(10_000) });

/** Server-Timing on every response, whichever call sends the head (and through encode). */
const serverTiming: Middleware = async (req, res, next) => {
  const start = performance.now();
  res.onHead(() => res.setHeader('server-timing', `app;dur=${(performance.now() - start).toFixed(1)}`));
  await next(req, res);
};

/** The user the session cookie names, or a 401. */
function userOf(cookies: Record<string, string | undefined>): string {
  const user = cookies.session ? sessions.get(cookies.session) : undefined;
  if (!user) throw new HttpError(401, 'log in first');
  return user;
}

/** The note `id`, if the user owns it: someone else's note is as missing as a note never written. */
function noteOf(id: string, user: string): Note {
  const note = notes.get(id);
  if (!note || note.owner !== user) throw new HttpError(404, `no note ${id}`);
  return note;
}

function sendJson(res: ResponseWriter, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(value));
}

export const server = createServer({
  listen: process.env.LISTEN ?? '127.0.0.1:8080',
  routes: [
    {
      handle: [
        encode({ encodings: { gzip: {} }, minimumLength: 256 }),
        serverTiming,
        cors({ allowedOrigins: ['http://localhost:5173'], allowedHeaders: ['Content-Type'], allowCredentials: true }),
      ],
    },
    route('POST', '/login', async (req, res) => {
      const { name } = await req.json(Login); // 415, 413, 400 naming the failing field
      const id = randomUUID();
      sessions.set(id, name);
      res.setCookie('session', id, { maxAge: '1h' }); // Path=/; HttpOnly; SameSite=Lax
      sendJson(res, 200, { name });
    }),
    route('POST', '/notes', async (req, res) => {
      const owner = userOf(req.cookies);
      const { text } = await req.json(NewNote);
      const note: Note = { id: randomUUID(), owner, text };
      notes.set(note.id, note);
      res.setHeader('location', `/notes/${note.id}`);
      sendJson(res, 201, note);
    }),
    route('GET', '/notes/:id', async (req, res) => {
      sendJson(res, 200, noteOf(req.params.id, userOf(req.cookies)));
    }),
    route('PUT', '/notes/:id/attachment', async (req, res) => {
      const note = noteOf(req.params.id, userOf(req.cookies));
      const file = (await req.formData()).get('file'); // multipart, 10 MiB by default
      if (!(file instanceof File)) throw new HttpError(400, 'send the file in a field named "file"');
      note.attachment = { name: file.name, size: file.size };
      sendJson(res, 200, note);
    }),
    route('GET', '/notes/:id/export', async (req, res) => {
      const note = noteOf(req.params.id, userOf(req.cookies));
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      const lines = note.text.split('\n').map((line, n) => `${n + 1}\t${line}\n`);
      await pipeline(Readable.from(lines), res); // res is a Writable: backpressure included
    }),
    { handle: [staticResponse({ statusCode: 404, body: 'no such endpoint\n' })] },
  ],
});
await server.listen();

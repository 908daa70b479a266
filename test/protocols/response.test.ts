import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type InformationEvent } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http2';
import { describe, expect, it } from 'vitest';
import type { Handler } from '@ferry/core';
import { deferred, startServer } from './helpers.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Session } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';
import { collect } from '@ferry/test-kit/streams';

/** A client for either protocol that reports what it got, in order, with a hook per step. */
interface Protocol {
  name: string;
  /** Sends GET `path`; `onInfo` runs on each 1xx, `onResponse` on the final head. */
  get(
    handler: Handler,
    path: string,
    hooks?: { onInfo?: (status: number, headers: IncomingHttpHeaders) => void; onResponse?: () => void },
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>;
}

const h1: Protocol = {
  name: 'HTTP/1.1',
  async get(handler, path, hooks = {}) {
    const server = await startServer({ handler });
    const req = httpRequest({ host: '127.0.0.1', port: portOf(server), path, agent: false });
    req.on('information', (info: InformationEvent) => hooks.onInfo?.(info.statusCode, info.headers));
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    hooks.onResponse?.();
    const body = await collect(res);
    return { status: res.statusCode!, headers: res.headers, body };
  },
};

const h2: Protocol = {
  name: 'h2',
  async get(handler, path, hooks = {}) {
    const { ca, tls: certs } = certificates();
    const server = await startServer({ tls: certs, handler });
    const session = await h2Session(server.url, { ca });
    const stream = session.request({ ':path': path });
    stream.on('headers', (headers: IncomingHttpHeaders) => hooks.onInfo?.(Number(headers[':status']), headers));
    const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    hooks.onResponse?.();
    const body = await collect(stream);
    return { status: Number(headers[':status']), headers, body };
  },
};

describe.each([h1, h2])('over $name', (proto) => {
  it('writeInformational(103) reaches the client before the final response, at once', async () => {
    const hintSeen = deferred();
    const infos: { status: number; link: unknown }[] = [];
    const answer = await proto.get(
      async (_req, res) => {
        res.writeInformational(103, { link: '</a.css>; rel=preload' });
        // The final response waits until the client has the hint: it went out on its own.
        await hintSeen.promise;
        res.setHeader('link', '</a.css>; rel=preload');
        res.end('<html><body>page');
      },
      '/page',
      {
        onInfo: (status, headers) => {
          infos.push({ status, link: headers.link });
          hintSeen.resolve();
        },
      },
    );
    expect(infos).toEqual([{ status: 103, link: '</a.css>; rel=preload' }]);
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('<html><body>page');
  });

  it('flush() puts status and headers on the wire before any body', async () => {
    const headSeen = deferred();
    const answer = await proto.get(
      async (_req, res) => {
        res.statusCode = 202;
        res.setHeader('x-early', 'yes');
        res.setHeader('content-type', 'text/plain');
        res.flush();
        await headSeen.promise;
        res.end('late body');
      },
      '/flush',
      { onResponse: () => headSeen.resolve() },
    );
    expect(answer.status).toBe(202);
    expect(answer.headers['x-early']).toBe('yes');
    expect(answer.body.toString()).toBe('late body');
  });

  it('flush() after writeHead() puts the head on the wire before any body', async () => {
    const headSeen = deferred();
    const answer = await proto.get(
      async (_req, res) => {
        res.writeHead(201, { 'x-early': 'yes', 'content-type': 'text/plain' });
        res.flush();
        await headSeen.promise;
        res.end('late body');
      },
      '/flush',
      { onResponse: () => headSeen.resolve() },
    );
    expect(answer.status).toBe(201);
    expect(answer.body.toString()).toBe('late body');
  });

  describe('Content-Type sniffing for a response written without one', () => {
    const cases: [string, string | Buffer, string][] = [
      ['HTML', '<html><body>x', 'text/html; charset=utf-8'],
      ['plain text', 'just some words\n', 'text/plain; charset=utf-8'],
      ['binary bytes', Buffer.from([0x00, 0x01, 0x02, 0xfe, 0xff, 0x10]), 'application/octet-stream'],
      ['a PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'image/png'],
    ];
    for (const [label, body, type] of cases) {
      it(`${label} written with write() gets ${type}`, async () => {
        const answer = await proto.get(async (_req, res) => {
          res.write(body);
          res.end();
        }, '/');
        expect(answer.headers['content-type']).toBe(type);
        expect(Buffer.compare(answer.body, Buffer.from(body))).toBe(0);
      });
    }

    it('HTML given to end() gets text/html', async () => {
      const answer = await proto.get(async (_req, res) => void res.end('<html><body>x'), '/');
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    });

    it('a Content-Type the handler set is kept', async () => {
      const answer = await proto.get(async (_req, res) => {
        res.setHeader('content-type', 'application/xhtml+xml');
        res.end('<html><body>x');
      }, '/');
      expect(answer.headers['content-type']).toBe('application/xhtml+xml');
    });

    it('an empty body gets none', async () => {
      const answer = await proto.get(async (_req, res) => void res.end(), '/');
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBeUndefined();
    });
  });
});

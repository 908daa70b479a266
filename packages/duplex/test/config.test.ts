/**
 * `http.handlers.duplex_echo` from a Caddy-style JSON config with `enable_full_duplex`: the response
 * head arrives before the client has sent a single body byte, and each chunk comes back as it
 * arrives — before the next one is sent.
 */
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, coreModules, loadConfig, Registry, silentLogger, type FerryApp } from '@ferry/core';
import { duplexEchoModule } from '../src/index.js';
import { defer } from './helpers/net.js';
import { h2Connect } from '@ferry/test-kit/clients';
import { h2Exchange } from '@ferry/test-kit/exchange';

const registry = new Registry([...coreModules, duplexEchoModule]);

async function start(handler: Record<string, unknown> = { handler: 'duplex_echo' }): Promise<{ app: FerryApp; url: string }> {
  const app = await loadConfig(
    {
      apps: {
        http: {
          servers: {
            echo: { listen: ['127.0.0.1:0'], protocols: ['h1', 'h2c'], enable_full_duplex: true, routes: [{ handle: [handler] }] },
          },
        },
      },
    },
    { registry, logger: silentLogger() },
  );
  await app.start();
  defer(() => app.stop(0));
  return { app, url: app.servers[0]!.url };
}

/** The next chunk the body yields, as text. */
const next = async (body: Readable) => String(((await once(body, 'data')) as [Buffer])[0]);

describe('http.handlers.duplex_echo from config, enable_full_duplex on', () => {
  it('sends the head before any body byte and echoes each chunk as it arrives (HTTP/1.1)', async () => {
    const { url } = await start();
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': 'text/x-chat' } });
    req.on('error', () => {});
    defer(() => req.destroy());
    req.flushHeaders();
    // Not one body byte written yet: the head must come on its own.
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/x-chat');
    for (let i = 0; i < 5; i++) {
      const chunk = `chunk ${i}`;
      const echoed = next(res);
      req.write(chunk);
      expect(await echoed).toBe(chunk);
    }
    req.end();
    await once(res, 'end');
  });

  it('sends the head before any body byte and echoes each chunk as it arrives (h2c)', async () => {
    const { url } = await start();
    const ex = h2Exchange(h2Connect(url));
    // Not one body byte written yet: the head must come on its own.
    const { status, body } = await ex.response;
    expect(status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const echoed = next(body);
      ex.write(`chunk ${i}`);
      expect(await echoed).toBe(`chunk ${i}`);
    }
    ex.end();
    await once(body, 'end');
  });

  it('answers with status_code', async () => {
    const { url } = await start({ handler: 'duplex_echo', status_code: 201 });
    const ex = h2Exchange(h2Connect(url));
    const { status, body } = await ex.response;
    expect(status).toBe(201);
    ex.write('bye');
    ex.end();
    expect(await next(body)).toBe('bye');
  });

  it('rejects an unknown field with its JSON path', async () => {
    const err = await start({ handler: 'duplex_echo', status: 201 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      {
        path: 'apps.http.servers.echo.routes[0].handle[0].status',
        message: expect.stringMatching(/unknown option for http.handlers.duplex_echo/),
      },
    ]);
  });
});

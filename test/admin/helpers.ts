/** Real-socket plumbing for the admin API and reload tests: node:http clients, no keep-alive unless asked. */
import { request as httpRequest, type Agent, type OutgoingHttpHeaders } from 'node:http';
import { loadConfig, silentLogger, type FerryApp, type LoadOptions } from '@ferry/core';
import { defer } from '@ferry/test-kit/lifecycle';

export interface Answer {
  status: number;
  body: string;
}

/** One HTTP/1.1 request to 127.0.0.1:port; `body` is sent as JSON (a Buffer as is). */
export function call(
  port: number,
  method: string,
  path: string,
  body?: unknown,
  headers: OutgoingHttpHeaders = {},
  agent: Agent | false = false,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : Buffer.isBuffer(body) ? body.toString('utf8') : JSON.stringify(body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          ...(text !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}),
          ...headers,
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** GET / on the served port: the body, or a thrown error for anything but a 200. */
export async function served(port: number): Promise<string> {
  const a = await call(port, 'GET', '/');
  if (a.status !== 200) throw new Error(`status ${a.status}: ${a.body}`);
  return a.body;
}

/** A one-server config answering every request with `body`. */
export function config(body: string, listen = '127.0.0.1:0', extra: Record<string, unknown> = {}) {
  return {
    ...extra,
    apps: { http: { servers: { s: { listen: [listen], routes: [{ handle: [{ handler: 'static_response', body }] }] } } } },
  };
}

/** Loads and starts a config, silent; stopped after the test. */
export async function startApp(json: unknown, options: LoadOptions = {}): Promise<FerryApp> {
  const app = await loadConfig(json, { logger: silentLogger(), ...options });
  await app.start();
  defer(() => app.stop(0));
  return app;
}

/** The port of the app's server `name`. */
export function portOf(app: FerryApp, name = 's'): number {
  return app.server(name)!.addresses[0]!.port;
}

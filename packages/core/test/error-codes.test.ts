/**
 * The errors a user or a module author can meet carry a stable `code` (docs/errors.md), so they
 * can be caught by kind — also when two copies of @ferry/core are loaded (a plugin's own).
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError, HttpError } from '../src/index.js';
import { issuesOf } from './helpers/config.js';
import { useServers } from './helpers/http.js';
import { deferred } from '@ferry/test-kit/lifecycle';

const serve = useServers();

describe('error codes', () => {
  it('HttpError is FERRY_ERR_HTTP, whatever its status', () => {
    expect(new HttpError(404).code).toBe('FERRY_ERR_HTTP');
    expect(HttpError.from(new Error('x')).code).toBe('FERRY_ERR_HTTP');
  });

  it('an invalid config throws FERRY_ERR_CONFIG with its issues', async () => {
    const issues = await issuesOf({
      apps: { http: { servers: { s: { listen: ['127.0.0.1:0'], routes: [{ handle: [{ handler: 'nope' }] }] } } } },
    });
    expect(issues.length).toBe(1);
    expect(new ConfigError(issues).code).toBe('FERRY_ERR_CONFIG');
  });

  it("req.signal's reason when the client goes away is FERRY_ERR_CLIENT_GONE", async () => {
    const arrived = deferred();
    const reason = deferred<unknown>();
    const server = await serve({
      handler: async (req) => {
        req.signal.addEventListener('abort', () => reason.resolve(req.signal.reason), { once: true });
        arrived.resolve();
        await reason.promise;
      },
    });
    const client = request(`${server.url}/`);
    client.on('error', () => {}); // the test destroys it
    client.end();
    await arrived.promise;
    client.destroy();
    expect(((await reason.promise) as { code?: string }).code).toBe('FERRY_ERR_CLIENT_GONE');
  });
});

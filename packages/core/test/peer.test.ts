/**
 * A request's peer (remoteAddress, remotePort) is read from its connection once and shared by the
 * requests that connection carries: each must still see its own connection's peer, never another's.
 */
import { request as httpRequest, Agent } from 'node:http';
import { describe, expect, it } from 'vitest';
import { loadConfig, silentLogger } from '../src/index.js';

/** GET `url` through `agent`: the body, and the local port the client's connection used. */
function get(url: string, agent: Agent): Promise<{ body: string; port: number }> {
  return new Promise((resolve, reject) => {
    let port = 0;
    const req = httpRequest(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ body, port }));
    });
    req.on('socket', (s) => s.once('connect', () => (port = s.localPort ?? 0)));
    req.on('error', reject).end();
  });
}

describe("a request's peer", () => {
  it('is its own connection’s, request after request on kept-alive connections', async () => {
    const app = await loadConfig(
      {
        apps: {
          http: {
            servers: {
              s: {
                listen: ['127.0.0.1:0'],
                routes: [{ handle: [{ handler: 'static_response', body: '{http.request.remote.host} {http.request.remote.port}' }] }],
              },
            },
          },
        },
      },
      { logger: silentLogger() },
    );
    await app.start();
    const agents = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })];
    try {
      const url = app.servers[0]!.url;
      const seen: string[][] = [[], []];
      let ports = [0, 0];
      for (let round = 0; round < 3; round++) {
        for (const i of [0, 1]) {
          const { body, port } = await get(url, agents[i]!);
          if (port) ports[i] = port;
          seen[i]!.push(body);
        }
      }
      expect(ports[0]).not.toBe(ports[1]);
      for (const i of [0, 1]) expect(seen[i]).toEqual(Array(3).fill(`127.0.0.1 ${ports[i]}`));
      // A new connection from the first agent: a new peer.
      agents[0]!.destroy();
      agents[0] = new Agent({ keepAlive: true, maxSockets: 1 });
      const fresh = await get(url, agents[0]);
      expect(fresh.body).toBe(`127.0.0.1 ${fresh.port}`);
      ports = [fresh.port, ports[1]!];
      expect((await get(url, agents[1]!)).body).toBe(`127.0.0.1 ${ports[1]}`);
    } finally {
      for (const a of agents) a.destroy();
      await app.stop();
    }
  });
});

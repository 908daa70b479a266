/**
 * What a refused request says of the upstream (nothing), and what goes on the wire for an
 * HTTP/1.1 request without a body whatever its method.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Middleware } from '@ferry/core';
import { startProxy } from './helpers/net.js';
import { fetchOutcome, rawUpstream, sizedResponse } from './helpers/raw-h1.js';

const okUpstream = () => rawUpstream((_req, socket) => socket.write(sizedResponse('ok')));

/** A request `method` with no body and neither Content-Length nor Transfer-Encoding. */
function bodiless(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode!));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('a request the transport refuses to send', () => {
  it('costs the upstream no passive-health strike and moves to no other upstream', async () => {
    const a = await okUpstream();
    const b = await okUpstream();
    const poison: Middleware = (req, res, next) => {
      if (req.path === '/bad') req.headers['x-q'] = 'a\r\nx-injected: 1';
      return next(req, res);
    };
    const proxy = await startProxy(
      {
        upstreams: [{ dial: a.dial }, { dial: b.dial }],
        loadBalancing: { selectionPolicy: { policy: 'first' }, retries: 3 },
        healthChecks: { passive: { failDuration: '1m', maxFails: 1 } },
      },
      { before: [poison] },
    );
    for (let i = 0; i < 3; i++) expect((await fetchOutcome(`${proxy.url}/bad`)).status).toBe(502);
    // Nothing was sent anywhere, and the first upstream is still in: it takes the next request.
    expect(a.bytes().length + b.bytes().length).toBe(0);
    expect((await fetchOutcome(`${proxy.url}/good`)).status).toBe(200);
    expect(a.requests).toHaveLength(1);
    expect(b.requests).toHaveLength(0);
  });
});

describe('an HTTP/1.1 request without Content-Length or Transfer-Encoding', () => {
  it.each(['DELETE', 'POST', 'OPTIONS'])('%s goes upstream without a body or a chunked framing', async (method) => {
    const up = await okUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    expect(await bodiless(proxy.url, method)).toBe(200);
    expect(up.requests).toHaveLength(1);
    const wire = up.bytes().toString('latin1');
    expect(wire.startsWith(`${method} / HTTP/1.1\r\n`)).toBe(true);
    expect(wire).not.toMatch(/transfer-encoding/i);
    // The head, and not one byte after it.
    expect(wire.indexOf('\r\n\r\n')).toBe(wire.length - 4);
  });
});

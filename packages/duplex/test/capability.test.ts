/**
 * Field lesson 1: Go's EnableFullDuplex fails with "feature not supported" on HTTP/2, where the
 * stream is duplex anyway. Ferry reports the capability as a value and never fails or warns.
 */
import { describe, expect, it } from 'vitest';
import type { FerryRequest, ResponseWriter } from '@ferry/core';
import { duplex } from '../src/index.js';
import { captureWarnings, collectingLogger, startServer } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Connect } from '@ferry/test-kit/clients';
import { h1Exchange, h2Exchange } from '@ferry/test-kit/exchange';

interface Seen {
  protocol: string;
  before: boolean;
  after: boolean;
}

/** A handler that records `res.fullDuplex` before and after `res.enableFullDuplex()`, then answers. */
function probe(seen: Seen[]) {
  return async (req: FerryRequest, res: ResponseWriter) => {
    const before = res.fullDuplex;
    res.enableFullDuplex();
    seen.push({ protocol: req.protocol, before, after: res.fullDuplex });
    for await (const _ of req.body) void _;
    res.end('ok');
  };
}

async function post(ex: ReturnType<typeof h1Exchange>): Promise<number> {
  ex.end();
  const { status, body } = await ex.response;
  body.resume();
  await new Promise((r) => body.once('end', r));
  return status;
}

/** Log lines at warn (40) or above, or that speak of duplex support at all. */
const complaints = (entries: Record<string, unknown>[]) =>
  entries.filter((e) => (e.level as number) >= 40 || /not supported|full.?duplex/i.test(String(e.msg ?? '')));

describe('full duplex as a capability (field lesson 1)', () => {
  it.each(['h2', 'h2c'] as const)('enabling it on %s is a silent no-op and res.fullDuplex is true', async (proto) => {
    const { logger, entries } = collectingLogger();
    const warnings = captureWarnings();
    const seen: Seen[] = [];
    const { tls, ca } = certificates();
    const server = await startServer({
      logger,
      enableFullDuplex: true,
      ...(proto === 'h2' ? { tls, protocols: ['h1', 'h2'] } : { protocols: ['h1', 'h2c'] }),
      handler: probe(seen),
    });
    const ex = h2Exchange(h2Connect(server.url, proto === 'h2' ? { ca } : {}));
    expect(await post(ex)).toBe(200);
    await new Promise((r) => setImmediate(r)); // process warnings are emitted on a later tick
    expect(seen).toEqual([{ protocol: proto, before: true, after: true }]);
    expect(complaints(entries)).toEqual([]);
    expect(warnings).toEqual([]);
    // The logger did capture the server's lines: the assertion above is not vacuous.
    expect(entries.some((e) => e.msg === 'listening')).toBe(true);
  });

  it('is a silent no-op on h2 without the server option too, and inside duplex()', async () => {
    const { logger, entries } = collectingLogger();
    const warnings = captureWarnings();
    const { tls, ca } = certificates();
    let inside: boolean | undefined;
    const server = await startServer({
      logger,
      tls,
      protocols: ['h1', 'h2'],
      handler: duplex(async ({ res, body }) => {
        inside = res.fullDuplex;
        for await (const _ of body) void _;
      }),
    });
    expect(await post(h2Exchange(h2Connect(server.url, { ca })))).toBe(200);
    await new Promise((r) => setImmediate(r));
    expect(inside).toBe(true);
    expect(complaints(entries)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('is false on HTTP/1.1 without enableFullDuplex, true after res.enableFullDuplex()', async () => {
    const seen: Seen[] = [];
    const server = await startServer({ handler: probe(seen) });
    expect(await post(h1Exchange(server.url))).toBe(200);
    expect(seen).toEqual([{ protocol: 'http/1.1', before: false, after: true }]);
  });

  it('is true on HTTP/1.1 from the start with the server option enableFullDuplex', async () => {
    const { logger, entries } = collectingLogger();
    const seen: Seen[] = [];
    const server = await startServer({ logger, enableFullDuplex: true, handler: probe(seen) });
    expect(await post(h1Exchange(server.url))).toBe(200);
    expect(seen).toEqual([{ protocol: 'http/1.1', before: true, after: true }]);
    expect(complaints(entries)).toEqual([]);
  });

  it('is true on HTTP/1.1 inside duplex(), without the server option', async () => {
    let inside: boolean | undefined;
    const server = await startServer({
      handler: duplex(async ({ res, body }) => {
        inside = res.fullDuplex;
        for await (const _ of body) void _;
      }),
    });
    expect(await post(h1Exchange(server.url))).toBe(200);
    expect(inside).toBe(true);
  });
});

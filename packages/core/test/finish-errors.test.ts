/**
 * What fails after the chain, while Ferry finishes a response a handler left open, is logged and
 * that response cut off — for a handler that returned synchronously (DONE) as for an async one —
 * and the server goes on answering. Node refuses to end a response whose status is not a three
 * digit number: a handler that set one and left the ending to Ferry is such a failure.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { logLines } from '@ferry/test-kit/logs';
import { DONE, type Handler } from '../src/index.js';
import { send, useServers } from './helpers/http.js';

const serve = useServers();

const HANDLERS: Record<string, Handler> = {
  'a synchronous handler': (req, res) => {
    if (req.url === '/bad') res.statusCode = 1000;
    return DONE;
  },
  'an async handler': async (req, res) => {
    await Promise.resolve();
    if (req.url === '/bad') res.statusCode = 1000;
  },
};

describe('a response Ferry cannot finish', () => {
  it.each(Object.keys(HANDLERS))('is logged and cut off, and the server answers the next request (%s)', async (name) => {
    const { stream, lines } = logLines();
    const server = await serve({ handler: HANDLERS[name]!, logger: pino({ level: 'debug', base: undefined }, stream) });
    const base = server.url;
    await expect(send(base, '/bad')).rejects.toThrow(/socket hang up|ECONNRESET/);
    const logged = lines.find((l) => l.msg === 'unhandled error while finishing a response');
    expect(logged, JSON.stringify(lines)).toBeDefined();
    expect((logged!.err as { code?: string }).code).toBe('ERR_HTTP_INVALID_STATUS_CODE');
    const next = await send(base, '/good');
    expect(next.status).toBe(200);
  });
});

// hello: GET / answered with the 13-byte body, over keep-alive HTTP/1.1, by Ferry and the Node
// frameworks users would otherwise pick. Every ratio is to raw node:http.
import { bodyProblems, fetchOnce, headerSummary, wrongAnswer } from '../http-check.mjs';
import { ferryContender } from '../launchers/ferry.mjs';
import { nodeServer, versionOf } from '../launchers/node.mjs';
import { BODY } from '../servers/common.mjs';
import { ferryConfig } from '../servers/ferry-config.mjs';
import { driveWrk } from '../wrk.mjs';

/** A scenario's `verify` for a GET that must answer 200 with exactly `body`, kept alive. */
export function verifyGet(body) {
  return async ({ contender, server, kase }) => {
    const res = await fetchOnce(`${server.url}${kase.path}`);
    const problems = bodyProblems(res, body);
    if (problems.length) throw wrongAnswer(contender.id, `GET ${kase.path}`, problems);
    return { summary: headerSummary(res) };
  };
}

/**
 * The order here is the order of round 1; later rounds rotate it. A contender may have a
 * `prepare(ctx)`, run once before the first round.
 */
export const hello = {
  id: 'hello',
  title: '13-byte "Hello, World!" over HTTP/1.1 keep-alive',
  summary: 'every contender, servers pinned to one core, wrk to the other',
  unit: 'req/s',
  baseline: 'node',
  baselineLabel: 'node:http',
  /** Every server on one core, wrk on the other. */
  pinned: true,
  threads: 1,
  cases: [{ id: 'hello', path: '/' }],
  verify: verifyGet(BODY),
  drive: driveWrk,
  contenders: [
    { id: 'node', label: (ctx) => `node:http (${ctx.nodeVersion})`, start: nodeServer('node-http.mjs') },
    ferryContender({ id: 'ferry', config: ferryConfig }),
    { id: 'fastify', label: `fastify ${versionOf('fastify')}`, start: nodeServer('fastify.mjs') },
    {
      id: 'hono',
      label: `hono ${versionOf('hono')} + @hono/node-server ${versionOf('@hono/node-server')}`,
      start: nodeServer('hono.mjs'),
    },
    { id: 'express', label: `express ${versionOf('express')}`, start: nodeServer('express.mjs') },
  ],
  /** Printed under the table: the figure the project tracks. */
  ratios: [['ferry', 'fastify', 'ferry / fastify']],
};

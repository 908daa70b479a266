// gzip: a 102,602-byte JSON body compressed on every request, by Ferry's encode (in front of
// static_response, and in front of reverse_proxy to a raw upstream) and by what users run
// instead, all at gzip level 6. Two sub-cases: a client that accepts only gzip, and a browser's
// Accept-Encoding, where each contender picks its own encoding (reported with its bytes).
import { decodeBody } from '../decode.mjs';
import { fetchOnce, headerSummary, wrongAnswer } from '../http-check.mjs';
import { caddyContender, caddyEncode, caddyReverseProxy } from '../launchers/caddy.mjs';
import { ferryContender } from '../launchers/ferry.mjs';
import { nodeServer, versionOf } from '../launchers/node.mjs';
import { ferryEncodeConfig } from '../servers/ferry-config.mjs';
import { GZIP_LEVEL, JSON_BODY, JSON_TYPE } from '../servers/json-body.mjs';
import { PATHS } from '../servers/payloads.mjs';
import { driveWrk } from '../wrk.mjs';

const upstream = nodeServer('upstream.mjs');
const source = Buffer.from(JSON_BODY);

const cases = [
  { id: 'gzip', title: 'Accept-Encoding: gzip', acceptEncoding: 'gzip', allowed: ['gzip'] },
  {
    id: 'browser',
    title: "a browser's Accept-Encoding: gzip, deflate, br, zstd",
    acceptEncoding: 'gzip, deflate, br, zstd',
    allowed: ['gzip', 'deflate', 'br', 'zstd'],
  },
].map((kase) => ({ ...kase, path: PATHS.json, headers: [`Accept-Encoding: ${kase.acceptEncoding}`] }));

/** The answer must be compressed with an allowed encoding and decode to the source, byte for byte. */
async function verify({ contender, server, kase, ctx }) {
  const res = await fetchOnce(`${server.url}${kase.path}`, { headers: { 'accept-encoding': kase.acceptEncoding } });
  const encoding = res.headers['content-encoding'] ?? 'identity';
  const problems = [];
  if (res.status !== 200) problems.push(`status ${res.status}, expected 200`);
  if (!kase.allowed.includes(encoding)) problems.push(`Content-Encoding ${encoding}, expected ${kase.allowed.join(' or ')}`);
  if (/\bclose\b/i.test(res.headers.connection ?? '')) problems.push('"Connection: close" (keep-alive is under test)');
  try {
    const decoded = decodeBody(encoding, res.body, ctx.node);
    if (!decoded.equals(source)) problems.push(`decodes to ${decoded.length} bytes that are not the ${source.length}-byte source`);
  } catch (error) {
    problems.push(`its ${encoding} body does not decode: ${error.message}`);
  }
  if (problems.length) throw wrongAnswer(contender.id, `GET ${kase.path}, Accept-Encoding: ${kase.acceptEncoding}`, problems);
  return { summary: headerSummary(res), facts: { encoding, bodyBytes: res.body.length, wireBytes: res.wireBytes } };
}

const ferryEncode = (id, what, terminal) =>
  ferryContender({ id, what, config: (port, ctx) => ferryEncodeConfig(port, { level: GZIP_LEVEL, ...terminal(ctx) }) });
const ferryStatic = ferryEncode('ferry-static', 'encode + static_response', () => ({ body: JSON_BODY, contentType: JSON_TYPE }));
const ferryProxy = ferryEncode('ferry-proxy', 'encode + reverse_proxy', (ctx) => ({ upstreamPort: ctx.upstream.port }));

const caddyStatic = caddyContender({
  id: 'caddy-static',
  what: `encode gzip ${GZIP_LEVEL} + zstd, static_response`,
  handlers: () => [caddyEncode(GZIP_LEVEL), { handler: 'static_response', headers: { 'Content-Type': [JSON_TYPE] }, body: JSON_BODY }],
});
const caddyProxy = caddyContender({
  id: 'caddy-proxy',
  what: `encode gzip ${GZIP_LEVEL} + zstd, reverse_proxy`,
  handlers: (ctx) => [caddyEncode(GZIP_LEVEL), caddyReverseProxy(ctx.upstream.port)],
});

export const gzip = {
  id: 'gzip',
  title: `a ${source.length.toLocaleString('en-US')}-byte JSON body compressed per request, gzip level ${GZIP_LEVEL}`,
  summary: "compression of a 102,602-byte JSON body: Accept-Encoding gzip, and a browser's",
  unit: 'req/s',
  baseline: 'zlib',
  baselineLabel: 'zlib.gzip',
  pinned: true,
  threads: 1,
  cases,
  verify,
  drive: driveWrk,
  ownCpuTitle: 'of which Ferry/Caddy (not the upstream)',
  /** What each contender sent, from its check: printed before the rates. */
  factColumns: [
    { title: 'encoding', cell: (facts) => facts.encoding },
    { title: 'body bytes', cell: (facts) => facts.bodyBytes.toLocaleString('en-US') },
    { title: 'bytes on the wire', cell: (facts) => facts.wireBytes.toLocaleString('en-US') },
  ],
  contenders: [
    { id: 'zlib', label: (ctx) => `node:http + one zlib.gzip per request (${ctx.nodeVersion})`, start: nodeServer('gzip-oneshot.mjs') },
    ferryStatic,
    { ...ferryProxy, upstream },
    {
      id: 'pipe-zlib',
      label: (ctx) => `hand-written http.request proxy + one zlib.gzip per request (${ctx.nodeVersion})`,
      start: nodeServer('pipe-gzip.mjs'),
      upstream,
    },
    {
      id: 'express',
      label: `express ${versionOf('express')} + compression ${versionOf('compression')}`,
      start: nodeServer('express-compression.mjs'),
    },
    {
      id: 'fastify',
      label: `fastify ${versionOf('fastify')} + @fastify/compress ${versionOf('@fastify/compress')}`,
      start: nodeServer('fastify-compress.mjs'),
    },
    caddyStatic,
    { ...caddyProxy, upstream },
  ],
  ratios: [
    ['ferry-static', 'zlib', 'ferry (encode + static_response) / one-shot zlib.gzip'],
    ['ferry-proxy', 'pipe-zlib', 'ferry (encode + reverse_proxy) / hand-written proxy + one-shot zlib.gzip (same upstream)'],
    ['ferry-proxy', 'express', 'ferry (encode + reverse_proxy) / express + compression'],
    ['ferry-static', 'express', 'ferry (encode + static_response) / express + compression'],
    ['ferry-proxy', 'caddy-proxy', 'ferry (encode + reverse_proxy) / caddy (encode + reverse_proxy)'],
    ['ferry-static', 'caddy-static', 'ferry (encode + static_response) / caddy (encode + static_response)'],
  ],
};

// interop: Ferry mounted in Express with toNodeHandler against the Express middleware users run
// for the same job, on the same Express app (issue 17). Two sub-cases, each with its own pair:
// encode in front of an Express route vs compression (the gzip scenario's body and check), and
// reverse_proxy vs http-proxy-middleware to the proxy scenario's raw upstream, pinned with it
// (the 13-byte GET, checked byte for byte).
import { ferryMountedContender } from '../launchers/ferry.mjs';
import { nodeServer, versionOf } from '../launchers/node.mjs';
import { GZIP_LEVEL } from '../servers/json-body.mjs';
import { driveWrk } from '../wrk.mjs';
import { gzip } from './gzip.mjs';
import { proxy } from './proxy.mjs';

const upstream = nodeServer('upstream.mjs');
const express = `express ${versionOf('express')}`;
const ferry = `ferry ${versionOf('@ferry/ferry')}`;

const encodeCase = {
  // Accept-Encoding: gzip, GET /data.json; verified as in gzip: it decodes to the source.
  ...gzip.cases.find((k) => k.id === 'gzip'),
  id: 'encode-in-express',
  title: `the same Express route's ${gzip.title.replace(/^a /, '')}, Accept-Encoding: gzip`,
  verify: gzip.verify,
  contenders: ['express-compression', 'express-ferry-encode'],
  baseline: 'express-compression',
  baselineLabel: 'compression',
  factColumns: gzip.factColumns,
};

const proxyCase = {
  // GET /hello, a 13-byte answer; verified as in proxy: byte for byte.
  ...proxy.cases.find((k) => k.id === 'get-13b'),
  id: 'proxy-in-express',
  title: 'Express proxying a 13-byte GET to a raw node:http upstream (proxy and upstream on one core)',
  verify: proxy.verify,
  contenders: ['express-hpm', 'express-ferry-proxy'],
  baseline: 'express-hpm',
  baselineLabel: 'http-proxy-middleware',
  ownCpuTitle: proxy.ownCpuTitle,
};

export const interop = {
  id: 'interop',
  title: 'Ferry inside Express (toNodeHandler) vs the Express middleware for the same job',
  summary: "Ferry's encode and reverse_proxy mounted in Express vs compression and http-proxy-middleware, same route",
  unit: 'req/s',
  baseline: 'express-compression',
  baselineLabel: 'compression',
  pinned: true,
  threads: 1,
  cases: [encodeCase, proxyCase],
  /** Each sub-case checks its answers as the scenario it comes from does. */
  verify: (args) => args.kase.verify(args),
  drive: driveWrk,
  contenders: [
    {
      id: 'express-compression',
      label: `${express} + compression ${versionOf('compression')} (level ${GZIP_LEVEL})`,
      start: nodeServer('express-compression.mjs'),
    },
    ferryMountedContender({
      id: 'express-ferry-encode',
      label: `${express} + ${ferry} encode (toNodeHandler, gzip level ${GZIP_LEVEL})`,
      file: 'express-ferry-encode.mjs',
    }),
    {
      id: 'express-hpm',
      label: `${express} + http-proxy-middleware ${versionOf('http-proxy-middleware')} (keep-alive agent)`,
      start: nodeServer('express-hpm.mjs'),
      upstream,
    },
    {
      ...ferryMountedContender({
        id: 'express-ferry-proxy',
        label: `${express} + ${ferry} reverse_proxy (toNodeHandler)`,
        file: 'express-ferry-proxy.mjs',
      }),
      upstream,
    },
  ],
  ratios: [
    ['express-ferry-encode', 'express-compression', 'ferry encode / compression, both inside Express'],
    ['express-ferry-proxy', 'express-hpm', 'ferry reverse_proxy / http-proxy-middleware, both inside Express'],
  ],
};

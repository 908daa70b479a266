import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from '../types.js';
import { nodeRequestOf } from './bridge_request.js';
import { NodeResponse } from './node_response.js';

/**
 * A Node-style handler: an Express or Connect app, a Koa app's `callback()`, or one Connect
 * middleware. `next` is Connect's: called without an error (or with Express's `'route'` /
 * `'router'`), the request goes on down Ferry's chain; with one, to Ferry's error routes.
 */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => unknown;

/** Express's values of `next` that leave a router rather than report an error. */
function leaves(err: unknown): boolean {
  return err === undefined || err === null || err === 'route' || err === 'router';
}

/**
 * `fromNodeHandler(app)`: an Express/Connect/Koa app (or a single Connect middleware) as a Ferry
 * middleware. It gets a node:http request and response of their own (nodeRequestOf, NodeResponse):
 * whatever it does to them — Express replaces their prototypes — its bytes go through the wrappers
 * in front (`encode`, `headers`). The chain waits until the app's response finished (or the client
 * left); if the app calls `next()` instead, the chain goes on, and a URL the app changed goes with it.
 */
export function fromNodeHandler(app: NodeHandler): Middleware {
  if (typeof app !== 'function') throw new TypeError('fromNodeHandler takes a (req, res, next) function: an Express, Connect or Koa app');
  return (req, res, next) =>
    new Promise<void>((resolve, reject) => {
      const nodeReq = nodeRequestOf(req);
      const nodeRes = new NodeResponse(nodeReq, res);
      // As Node's own request: 'close' once the response is done or the client left ('aborted' first then).
      res.once('close', () => {
        if (req.signal.aborted) {
          nodeReq.aborted = true;
          nodeReq.emit('aborted');
        }
        nodeReq.destroy();
      });
      let settled = false;
      const answered = () => {
        if (settled) return;
        settled = true;
        res.removeListener('finish', answered);
        res.removeListener('close', answered);
        resolve();
      };
      res.once('finish', answered);
      res.once('close', answered);
      const passed = (err?: unknown) => {
        if (settled) return;
        settled = true;
        res.removeListener('finish', answered);
        res.removeListener('close', answered);
        if (!leaves(err)) return reject(err);
        if (nodeReq.url !== undefined && nodeReq.url !== req.url) req.url = nodeReq.url;
        next(req, res).then(resolve, reject);
      };
      try {
        app(nodeReq, nodeRes, passed);
      } catch (err) {
        passed(err ?? new Error('the mounted handler threw'));
      }
    });
}

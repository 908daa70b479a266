import { defineModule, moduleFactory, z, type Middleware, type ProvisionContext } from '@ferry/core';
import { Gauge } from 'prom-client';
import { duplex } from './duplex.js';

/** `ferry_duplex_streams_open`: full-duplex exchanges in progress, shared by every duplex_echo of an app. */
function streamsGauge(ctx: ProvisionContext): Gauge {
  const name = 'ferry_duplex_streams_open';
  return (
    (ctx.metrics.getSingleMetric(name) as Gauge | undefined) ??
    new Gauge({ name, help: 'Full-duplex streams in progress', registers: [ctx.metrics] })
  );
}

/** `http.handlers.duplex_echo`: streams each chunk of the request body back as it arrives, headers sent at once. */
export const duplexEchoModule = defineModule({
  id: 'http.handlers.duplex_echo',
  description: 'Echoes the request body chunk by chunk as it arrives (full duplex), headers sent at once.',
  config: z.strictObject({
    status_code: z.number().int().min(200).max(599).default(200).describe('Status of the echo response.'),
  }),
  provision(cfg, ctx): Middleware {
    const open = streamsGauge(ctx);
    const handler = duplex(
      async ({ body, write, flush }) => {
        for await (const chunk of body) {
          await write(chunk);
          flush();
        }
      },
      { status: cfg.status_code },
    );
    return async (req, res) => {
      const type = req.headers['content-type'];
      res.setHeader('content-type', typeof type === 'string' ? type : 'application/octet-stream');
      open.inc();
      try {
        await handler(req, res);
      } finally {
        open.dec();
      }
    };
  },
});

/** `duplexEcho()` — the code front door of `http.handlers.duplex_echo`. */
export const duplexEcho = moduleFactory(duplexEchoModule);

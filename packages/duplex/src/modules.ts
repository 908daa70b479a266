import { defineModule, moduleFactory, z, type Middleware } from '@ferry/core';
import { duplex } from './duplex.js';

/** `http.handlers.duplex_echo`: streams each chunk of the request body back as it arrives, headers sent at once. */
export const duplexEchoModule = defineModule({
  id: 'http.handlers.duplex_echo',
  description: 'Echoes the request body chunk by chunk as it arrives (full duplex), headers sent at once.',
  config: z.strictObject({
    /** Status of the echo response. Default 200. */
    status_code: z.number().int().min(200).max(599).optional(),
  }),
  provision(cfg): Middleware {
    const handler = duplex(
      async ({ req, body, write, flush }) => {
        for await (const chunk of body) {
          await write(chunk);
          flush();
        }
        void req;
      },
      { status: cfg.status_code ?? 200 },
    );
    return (req, res) => {
      const type = req.headers['content-type'];
      res.setHeader('content-type', typeof type === 'string' ? type : 'application/octet-stream');
      return handler(req, res);
    };
  },
});

/** `duplexEcho()` — the code front door of `http.handlers.duplex_echo`. */
export const duplexEcho = moduleFactory(duplexEchoModule);

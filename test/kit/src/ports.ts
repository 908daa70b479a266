import { once } from 'node:events';
import { createServer } from 'node:net';

/** A loopback port that was free a moment ago (the kernel's pick, bound and released for the caller). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

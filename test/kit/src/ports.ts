/** Loopback ports: a free one, and whether (or once) one refuses connections. */
import { once } from 'node:events';
import { connect, createServer } from 'node:net';

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

/**
 * `n` distinct free ports: each stays bound until all are found, so the kernel cannot hand the same
 * just-freed port out twice (several freePort() calls in a row can get one port twice).
 */
export async function freePorts<N extends number>(n: N): Promise<Ports<N>> {
  const servers = Array.from({ length: n }, () => createServer().listen(0, '127.0.0.1'));
  await Promise.all(servers.map((srv) => once(srv, 'listening')));
  const ports = servers.map((srv) => (srv.address() as { port: number }).port);
  await Promise.all(servers.map((srv) => new Promise((resolve) => srv.close(resolve))));
  return ports as Ports<N>;
}

/** A tuple of `N` ports, so that destructuring them gives numbers. */
type Ports<N extends number, T extends number[] = []> = T['length'] extends N ? T : Ports<N, [...T, number]>;

/** Resolves true when a new TCP connection to host:port is refused. */
export function refused(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Polls until the port refuses connections, within a deadline. */
export async function untilRefused(port: number, withinMs = 5000): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!(await refused(port))) {
    if (performance.now() > deadline) throw new Error(`port ${port} still accepts connections after ${withinMs}ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

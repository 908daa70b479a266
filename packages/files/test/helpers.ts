/**
 * The file tests' plumbing: a site folder made fresh for each test (with a secret beside it, just
 * outside the root), servers on 127.0.0.1 in code and in config, and a raw-socket client that
 * sends a request target exactly as written (node:http and undici would normalize it).
 */
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import type { ClientHttp2Session } from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  coreModules,
  createServer,
  loadConfig,
  Registry,
  silentLogger,
  type FerryServer,
  type ServerOptions,
  type Services,
} from '@ferry/core';
import { encodeModule } from '@ferry/encode';
import { defer } from '@ferry/test-kit/lifecycle';
import { serverStarter } from '@ferry/test-kit/servers';
import { filesModules } from '../src/index.js';

export { defer };

export const registry = new Registry([...coreModules, encodeModule, ...filesModules]);

/** The secret placed beside every site's root: no request may ever read it. */
export const SECRET = 'TOP-SECRET-f1a2b3c4';

export interface Site {
  /** The parent folder: holds `secret.txt` and `root/`. */
  readonly dir: string;
  /** The root to serve. */
  readonly root: string;
  /** Writes a file under the root (folders made as needed); returns its absolute path. */
  write(rel: string, content: string | Buffer): string;
}

/** A fresh site folder, removed after the test. */
export function makeSite(files: Record<string, string | Buffer> = {}): Site {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-files-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  mkdirSync(root);
  writeFileSync(join(dir, 'secret.txt'), SECRET);
  const write = (rel: string, content: string | Buffer) => {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  };
  for (const [rel, content] of Object.entries(files)) write(rel, content);
  return { dir, root, write };
}

const startServer = serverStarter(createServer);

/** A code-first server on 127.0.0.1, closed after the test. */
export function serve(options: ServerOptions): Promise<FerryServer> {
  return startServer(options);
}

/** A server from a Caddy-style `srv0` config object (listen added), closed after the test; `services` as a host provides them. */
export async function serveConfig(server: Record<string, unknown>, services?: Services): Promise<FerryServer> {
  const json = { admin: { disabled: true }, apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], ...server } } } } };
  const app = await loadConfig(json, { registry, logger: silentLogger(), services });
  defer(() => app.stop(0));
  await app.start();
  return app.servers[0]!;
}

/** A raw HTTP/1.1 exchange: `target` sent byte for byte; resolves with everything the server sent before closing. */
export function rawRequest(port: number, target: string, extra = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    defer(() => socket.destroy());
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`, 'latin1');
  });
}

/** The status code of a raw response. */
export function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
}

/** A request on a connection of its own (no agent); resolves with the response, its body unread. */
export function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** The whole body of a response. */
export async function body(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Sets `session`'s stream window for every stream, open or new (RFC 9113 §6.9.2); resolves once the server took it. */
export function streamWindow(session: ClientHttp2Session, size: number): Promise<void> {
  return new Promise((resolve, reject) => session.settings({ initialWindowSize: size }, (err) => (err ? reject(err) : resolve())));
}

/** This process's descriptors open on files under `dir`. */
export function openUnder(dir: string): string[] {
  const names: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const name = readlinkSync(`/proc/self/fd/${fd}`);
      if (name.startsWith(dir)) names.push(name);
    } catch {
      // Closed since the listing.
    }
  }
  return names;
}

/** Closes are not waited for by the server: wait (bounded) until none is left under `dir`. */
export async function settledUnder(dir: string): Promise<string[]> {
  for (let i = 0; i < 250 && openUnder(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return openUnder(dir);
}

/**
 * Replaces `target` again and again, on every turn of the event loop, until the returned function
 * is called (or 500,000 swaps): `make(temp, state)` builds state number 0…`states`-1 at `temp`,
 * which is then renamed over `target` (atomic: a reader sees the old state or the new). Which
 * state comes next is drawn from a fixed seed, so the swaps cannot fall into step with the
 * server's turns and show it one state only.
 */
export function keepSwapping(target: string, states: number, make: (temp: string, state: number) => void): () => void {
  let swapping = true;
  let swaps = 0;
  let seed = 0x2545f491;
  const swap = () => {
    if (!swapping || swaps > 500_000) return;
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const temp = join(dirname(target), `.swap${swaps++}`);
    make(temp, (seed >>> 16) % states);
    renameSync(temp, target);
    setImmediate(swap);
  };
  setImmediate(swap);
  return () => {
    swapping = false;
  };
}

/**
 * 50 rounds of 8 GETs of `path` at once, each answer handed to `check` (status, body, fields), then
 * `stop()` — the swaps of a keepSwapping run these requests race — even when a check throws.
 * Resolves with how many answers had each status.
 */
export async function requestsDuring(
  stop: () => void,
  port: number,
  path: string,
  headers: Record<string, string>,
  check: (status: number, got: Buffer, headers: IncomingMessage['headers']) => void,
): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  try {
    for (let round = 0; round < 50; round++) {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => get(port, path, headers).then(async (res) => ({ res, got: await body(res) }))),
      );
      for (const { res, got } of answers) {
        const status = res.statusCode!;
        check(status, got, res.headers);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }
  } finally {
    stop();
  }
  return statuses;
}

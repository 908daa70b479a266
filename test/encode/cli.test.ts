/**
 * encode end to end: a Caddy-style JSON config run by the real `ferry` command (a child process),
 * a real node:http client. The CLI loads @ferry/encode as its standard distribution does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../apps/ferry/dist/cli.js', import.meta.url));
const HANDLE = 'apps.http.servers.srv0.routes[0].handle[0]';
const PAGE = `<!doctype html><title>ferry</title>${'<p>compressed by the ferry command</p>\n'.repeat(50)}`;

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
});

function configFile(encodeOptions: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-encode-')), 'ferry.json');
  const config = {
    admin: { disabled: true },
    apps: {
      http: {
        servers: {
          srv0: {
            listen: ['127.0.0.1:0'],
            routes: [
              {
                handle: [
                  { handler: 'encode', ...encodeOptions },
                  { handler: 'static_response', headers: { 'Content-Type': ['text/html; charset=utf-8'] }, body: PAGE },
                ],
              },
            ],
          },
        },
      },
    },
  };
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** Runs `ferry ARGS`; resolves with the child once it logs `listening`, and the port. */
async function ferryRun(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [CLI, 'run', ...args], {
    env: { ...process.env, FERRY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      // Only whole lines: the last piece may be a JSON log line still being written.
      for (const line of stderr.split('\n').slice(0, -1)) {
        const entry = line.startsWith('{') ? (JSON.parse(line) as { msg?: string; port?: number }) : undefined;
        if (entry?.msg === 'listening' && entry.port) resolve(entry.port);
      }
    });
    child.once('exit', (code) => reject(new Error(`ferry exited with ${code} before listening:\n${stderr}`)));
  });
  return { child, port };
}

/** Runs `ferry ARGS` to completion. */
async function ferry(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, FERRY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stderr };
}

async function get(port: number, headers: Record<string, string>): Promise<{ res: IncomingMessage; body: Buffer }> {
  const req = request({ host: '127.0.0.1', port, path: '/', headers, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return { res, body: Buffer.concat(chunks) };
}

describe('encode under the ferry command', () => {
  it('serves the config’s page gzip-compressed, and stops cleanly on SIGTERM', async () => {
    const { child, port } = await ferryRun([
      '--config',
      configFile({ encodings: { gzip: { level: 9 } }, minimum_length: 100, prefer: ['gzip'] }),
    ]);
    const { res, body } = await get(port, { 'accept-encoding': 'br, gzip' });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(gunzipSync(body).toString()).toBe(PAGE);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('serves the page as is to a client that accepts no encoding', async () => {
    const { port } = await ferryRun(['--config', configFile({ encodings: { gzip: {} } })]);
    const { res, body } = await get(port, {});
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(body.toString()).toBe(PAGE);
  });

  it('ferry validate reports invalid encode options with their JSON paths and exits non-zero', async () => {
    const r = await ferry([
      'validate',
      '--config',
      configFile({ encodings: { gzip: { level: 10 } }, prefer: ['gzip', 'br'], min_length: 5 }),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${HANDLE}.encodings.gzip.level`);
    expect(r.stderr).toContain(`${HANDLE}.prefer[1]`);
    expect(r.stderr).toContain(`${HANDLE}.min_length`);
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFifo } from '@ferry/test-kit/fifo';
import { CLI, configFile, type Result } from './cli.js';

/** `ferry validate`/`run` on hostile config files (issue #13 items 7 and 10): a clear error, never a hang. */

const dir = mkdtempSync(join(tmpdir(), 'ferry-config-files-'));

/** Runs `ferry ARGS` to completion; a run still going after `ms` is killed and fails the test. */
async function ferryWithin(args: string[], ms = 8000): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, FERRY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  expect(signal, `ferry ${args.join(' ')} was still running after ${ms} ms:\n${stderr}`).toBeNull();
  return { code, stdout, stderr };
}

const server = { listen: ['127.0.0.1:0'], routes: [{ handle: [{ handler: 'static_response', body: 'hi' }] }] };

describe('config files that must be refused', () => {
  it('refuses a "__proto__" key, naming its JSON path, with validate and run', async () => {
    const file = configFile('{"admin":{"disabled":true},"apps":{"http":{"servers":{"__proto__":{"listen":["127.0.0.1:0"]}}}}}');
    for (const command of ['validate', 'run']) {
      const r = await ferryWithin([command, '--config', file]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: apps\.http\.servers\.__proto__: "__proto__" is not allowed as a key/m);
      expect(r.stderr).toMatch(/nothing started/);
    }
  });

  it('refuses a directory as --config in one clear line', async () => {
    const r = await ferryWithin(['validate', '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: cannot read config file ${dir}: is a directory\n1 problem: nothing started\n`);
  });

  it('refuses /dev/zero as --config after 16 MiB instead of reading forever', async () => {
    const r = await ferryWithin(['validate', '--config', '/dev/zero']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot read config file \/dev\/zero: larger than 16 MiB$/m);
  });

  it('run refuses a FIFO as load_files at once, naming the file and its JSON path', async () => {
    const fifo = makeFifo(dir, 'key.fifo');
    const cert = join(dir, 'missing-cert.pem');
    const file = configFile({
      admin: { disabled: true },
      apps: { http: { servers: { s: server } }, tls: { certificates: { load_files: [{ certificate: cert, key: fifo }] } } },
    });
    const r = await ferryWithin(['run', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: apps.tls.certificates.load_files[0].certificate: cannot read certificate file ${cert}: no such file\n`,
    );
    expect(r.stderr).toContain(
      `error: apps.tls.certificates.load_files[0].key: cannot read key file ${fifo}: is a named pipe (FIFO), not a regular file\n`,
    );
  });

  it('still reads a config from a pipe, as with --config <(jq …)', async () => {
    const fifo = makeFifo(dir, 'config.fifo');
    const r = ferryWithin(['validate', '--config', fifo]);
    // The writer's open waits for ferry to open the FIFO for reading.
    const writer = spawn('sh', ['-c', `cat > '${fifo}'`], { stdio: ['pipe', 'ignore', 'inherit'] });
    writer.stdin.end(JSON.stringify({ admin: { disabled: true }, apps: { http: { servers: { s: server } } } }));
    const result = await r;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('valid config\n');
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CLI, configFile, runFerry, type FerryResult } from '@ferry/test-kit/ferry';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** `ferry(args, env)`: runs the built CLI to completion; `configFile` writes one — the test kit's, shared by every suite. */
export { CLI, configFile, runFerry as ferry, type FerryResult as Result };

/** Starts `ferry run ARGS` and resolves with the port of its first listener, read from its JSON log. */
export async function ferryRun(args: string[]): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'run', ...args], {
    env: { ...process.env, FERRY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      for (const line of stderr.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening' && entry.port) resolve(entry.port);
        } catch {
          // a partial line; wait for the rest
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`ferry exited with ${code} before listening:\n${stderr}`)));
  });
  return { child, port, stderr: () => stderr };
}

/** Sends SIGTERM and resolves with the exit code. */
export async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

// Child processes of the harness: started pinned to a core, awaited until they listen, and
// always stopped — on success, on failure, and on Ctrl-C — so no server outlives a run.
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const children = new Set();
let taskset;

/** Call once with taskset's path to pin children; leave unset to run them unpinned. */
export function usePinning(tasksetPath) {
  taskset = tasksetPath;
}

/**
 * Spawns `command args` on `cpu` (via `taskset -c`, which execs the command, so the child's
 * pid is the command's own and signals reach it directly). Output is kept, bounded, so a
 * failure can show why without an unbounded buffer.
 */
export function spawnPinned(cpu, command, args, options = {}) {
  const [file, argv] = taskset && cpu !== undefined ? [taskset, ['-c', String(cpu), command, ...args]] : [command, args];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  child.output = '';
  const keep = (chunk) => {
    child.output = (child.output + chunk).slice(-64 * 1024);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    // A spawn failure (ENOENT…) emits 'error' instead of 'exit'.
    child.once('error', (error) => {
      children.delete(child);
      child.output += `\n${error.message}`;
      resolve({ code: null, signal: null, error });
    });
  });
  children.add(child);
  return child;
}

/** Sends SIGTERM, then SIGKILL if the child has not exited within `graceMs`. */
export async function stop(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await child.exited;
  } finally {
    clearTimeout(timer);
  }
}

export async function stopAll() {
  await Promise.all([...children].map((child) => stop(child)));
}

/**
 * Stops every child when the harness ends, however it ends. Signals get a graceful stop
 * then the conventional 128+n exit code; 'exit' (synchronous) can only SIGKILL what is left.
 */
export function installCleanup(onExit = () => {}) {
  let stopping = false;
  for (const [signal, number] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
    ['SIGHUP', 1],
  ]) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n${signal}: stopping ${children.size} child process(es)…\n`);
      stopAll().finally(() => {
        onExit();
        process.exit(128 + number);
      });
    });
  }
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
    onExit();
  });
}

/** An ephemeral port that is free right now, chosen by the kernel. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls until `port` accepts connections. Polling works for every contender alike, including
 * the Ferry CLI, which prints nothing at log level warn. Fails fast, with the child's output,
 * if the child dies first.
 */
export async function waitForPort(port, child, name, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let exit;
  child.exited.then((result) => {
    exit = result;
  });
  while (Date.now() < deadline) {
    if (exit) {
      throw new Error(`${name} exited (${describeExit(exit)}) before listening on port ${port}:\n${child.output.trim()}`);
    }
    if (await canConnect(port)) return;
    await sleep(50);
  }
  throw new Error(`${name} did not listen on port ${port} within ${timeoutMs} ms:\n${child.output.trim()}`);
}

/**
 * Polls until the child has printed `text` (a start-up line saying it is fully up: the port
 * may answer before every worker of `ferry run --workers N` listens). Fails fast if it dies.
 */
export async function waitForOutput(child, text, name, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!child.output.includes(text)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited before printing ${JSON.stringify(text)}:\n${child.output.trim()}`);
    }
    if (Date.now() > deadline)
      throw new Error(`${name} did not print ${JSON.stringify(text)} within ${timeoutMs} ms:\n${child.output.trim()}`);
    await sleep(50);
  }
}

export function describeExit({ code, signal, error }) {
  if (error) return error.message;
  return signal ? `signal ${signal}` : `code ${code}`;
}

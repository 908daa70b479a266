import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Registry as MetricsRegistry } from 'prom-client';
import {
  AdminServer,
  adminOptionsOf,
  ConfigError,
  createLogger,
  formatIssue,
  loadConfig,
  readConfigFile,
  type AdminTarget,
  type ConfigIssue,
  type FerryApp,
  type Logger,
} from '@ferry/core';
import { distributionRegistry } from './modules.js';
import { loadPlugins, PluginError } from './plugins.js';
import { defaultConfig, demoHostProblem, DEMO_HOST } from './default-config.js';
import { configJsonSchema, configReference } from './schema.js';
import { serveClusterMetrics } from './workers/cluster-metrics.js';
import { isFerryWorker } from './workers/ipc.js';
import { serveRelay } from './workers/sse-relay.js';
import { WorkerPool } from './workers/primary.js';
import { runWorker } from './workers/worker.js';

const USAGE = `usage: ferry <command> [options]

commands:
  run [--config FILE] [--plugin P]...   start serving (the embedded default config without --config)
      --workers N                       serve with N worker processes sharing the listeners (N >= 1,
                                        or "auto": one per core; default 1, or $FERRY_WORKERS)
      --host HOST                       without --config: the address the demo listens on
                                        (default 127.0.0.1; 0.0.0.0 or :: for every interface)
      --print-default-config            print the embedded default config and exit
  validate --config FILE [--plugin P]... check a config: every problem with its JSON path
  list-modules [--plugin P]... [--verbose]
                                        print every registered module ID, one per line
  reload --config FILE [--address A]    load FILE into a running ferry through its admin API
                                        (default address localhost:2019), without dropping requests
  schema [--plugin P]...                print the JSON Schema of ferry.json (for editors)
  reference [--plugin P]...             print the config reference (Markdown), as in docs/reference.md
  version                               print the version

--plugin takes a file path or an installed package name whose default export is a module
(or an array of modules) made with defineModule from @ferry/core. It may be repeated.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function printIssues(kind: 'error' | 'warning', issues: readonly ConfigIssue[]): void {
  for (const i of issues) process.stderr.write(`${kind}: ${formatIssue(i)}\n`);
}

type Out = (text: string) => void;

/** The `ferry` command. Returns the exit code (run resolves once the server has stopped). */
export async function main(argv: readonly string[], out: Out = (t) => process.stdout.write(t)): Promise<number> {
  const [command, ...rest] = argv;
  let args;
  try {
    args = parseArgs({
      args: [...rest],
      options: {
        config: { type: 'string', short: 'c' },
        plugin: { type: 'string', multiple: true, default: [] },
        verbose: { type: 'boolean', default: false },
        'print-default-config': { type: 'boolean', default: false },
        address: { type: 'string' },
        workers: { type: 'string' },
        host: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`ferry: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case 'version':
    case '--version':
      out(`ferry ${version()} (node ${process.version})\n`);
      return 0;
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      out(USAGE);
      return command === undefined ? 2 : 0;
    case 'reload':
      return reload(args.config, args.address);
    case 'list-modules':
    case 'schema':
    case 'reference':
    case 'validate':
    case 'run':
      break;
    default:
      process.stderr.write(`ferry: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }

  let workers = 1;
  if (command === 'run') {
    const n = workerCount(args.workers);
    if (typeof n === 'string') {
      process.stderr.write(`ferry run: ${n}\n`);
      return 2;
    }
    workers = n;
    const hostProblem =
      args.host === undefined
        ? undefined
        : args.config
          ? `--host applies to the embedded default only; set the listen addresses in ${args.config}`
          : demoHostProblem(args.host);
    if (hostProblem) {
      process.stderr.write(`ferry run: ${hostProblem}\n`);
      return 2;
    }
  }

  const registry = distributionRegistry();
  try {
    await loadPlugins(args.plugin ?? [], registry);
  } catch (err) {
    if (err instanceof PluginError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  if (command === 'list-modules') {
    for (const m of registry.modules()) out(args.verbose && m.description ? `${m.id}\t${m.description}\n` : `${m.id}\n`);
    return 0;
  }
  if (command === 'schema') {
    out(`${JSON.stringify(configJsonSchema(registry), null, 2)}\n`);
    return 0;
  }
  if (command === 'reference') {
    out(configReference(registry));
    return 0;
  }
  if (command === 'run' && isFerryWorker()) {
    // A worker of `ferry run --workers N`: the primary sends the config (and every reload).
    return runWorker(registry, createLogger().child({ worker: Number(process.env.FERRY_WORKER), pid: process.pid }));
  }
  if (command === 'run' && args['print-default-config']) {
    out(`${JSON.stringify(defaultConfig(args.host), null, 2)}\n`);
    return 0;
  }
  if (command === 'validate' && !args.config) {
    process.stderr.write('ferry validate: --config FILE is required\n');
    return 2;
  }

  const logger = createLogger();
  let app: FerryApp;
  let json: unknown;
  try {
    json = args.config ? await readConfigFile(args.config) : defaultConfig(args.host);
    app = await loadConfig(json, { registry, logger });
  } catch (err) {
    if (err instanceof ConfigError) {
      printIssues('error', err.issues);
      process.stderr.write(`${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}: nothing started\n`);
      return 1;
    }
    throw err;
  }
  printIssues('warning', app.warnings);
  if (command === 'validate') {
    await app.stop(0);
    out('valid config\n');
    return 0;
  }

  let running: Running;
  if (workers === 1) {
    try {
      await app.start();
    } catch (err) {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      return 1;
    }
    running = { target: app, stopNow: () => app.stop(0), exitNow: () => process.exit(1) };
  } else {
    // The primary only checked the config (above): the workers serve it.
    await app.stop(0);
    const pool = new WorkerPool({ workers, config: json, registry, logger, args: argv, metrics: new MetricsRegistry() });
    // What the workers' modules ask of the primary (worker messages outside `ferry.w.*`, see
    // WorkerPool.onWorkerMessage): the summed metrics (`ferry.metrics.*`) and the SSE relay
    // (`ferry.sse.*`), by which topics without a broker are shared by every worker.
    serveClusterMetrics(pool);
    serveRelay(pool);
    try {
      await pool.start();
    } catch (err) {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      return 1;
    }
    running = {
      target: pool,
      stopNow: () => pool.stop(),
      exitNow: () => {
        pool.kill();
        process.exit(1);
      },
    };
  }
  if (!args.config) process.stderr.write(`ferry: ${demoBanner(args.host ?? DEMO_HOST)}\n`);
  return serve(running, json, logger);
}

/** The line `ferry run` prints when it serves the embedded default: where to point a browser, and who else can. */
function demoBanner(host: string): string {
  const everywhere = host === '0.0.0.0' || host === '::';
  const name = everywhere || host === '127.0.0.1' || host === '::1' ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host;
  const reach = everywhere
    ? 'on every interface: anyone who reaches this machine sees it, /metrics included'
    : `on ${host} only (--host 0.0.0.0 for every interface)`;
  return `serving the embedded default: http://${name}:8080/ and https://${name}:8443/ (self-signed), ${reach}`;
}

/** What `ferry run` serves: one FerryApp, or the pool of `--workers N`. */
interface Running {
  /** What the admin API reads, reloads and stops. */
  target: AdminTarget;
  /** Stops without a grace period (nothing has been served yet). */
  stopNow: () => Promise<void>;
  /** A second signal: ends everything at once. */
  exitNow: () => void;
}

/** Serves the admin API beside what runs, and stops it all on SIGINT/SIGTERM or POST /stop. */
async function serve(running: Running, config: unknown, logger: Logger): Promise<number> {
  // The admin API, as in Caddy: on localhost:2019 unless the config says otherwise; a reload that
  // changes the `admin` section moves or closes it.
  let admin: AdminServer | undefined;
  let stopped: (code: number) => void = () => {};
  const adminOptions = adminOptionsOf(config);
  if (adminOptions) {
    admin = new AdminServer(running.target, { ...adminOptions, logger, onStop: () => stopped(0), followConfig: true });
    try {
      await admin.start();
    } catch (err) {
      await running.stopNow();
      process.stderr.write(`error: ${(err as Error).message} (set "admin": {"disabled": true} or another admin.listen)\n`);
      return 1;
    }
  }
  return new Promise<number>((resolve) => {
    stopped = resolve;
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal means "now".
        process.stderr.write(`ferry: ${signal} again, exiting at once\n`);
        running.exitNow();
        return;
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      Promise.all([running.target.stop(), admin?.close()]).then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    // `on`, not `once`: a second signal must reach the handler, not kill the process by default.
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `--workers N` (or `$FERRY_WORKERS`): a count ≥ 1, or `auto` for one per core; a string says what is wrong. */
export function workerCount(flag: string | undefined, env = process.env.FERRY_WORKERS): number | string {
  const [value, source] = flag !== undefined ? [flag, '--workers'] : env !== undefined && env !== '' ? [env, 'FERRY_WORKERS'] : ['1', ''];
  if (value === 'auto') return availableParallelism();
  if (/^[1-9]\d{0,3}$/.test(value)) return Number(value);
  return `${source} must be a whole number from 1 to 9999, or "auto" (one worker per core); got "${value}"`;
}

/** `ferry reload`: posts a config file to a running ferry's admin API (`POST /load`). */
async function reload(config: string | undefined, address = 'localhost:2019'): Promise<number> {
  if (!config) {
    process.stderr.write('ferry reload: --config FILE is required\n');
    return 2;
  }
  let json: unknown;
  try {
    json = await readConfigFile(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      printIssues('error', err.issues);
      return 1;
    }
    throw err;
  }
  const base = /^[a-z]+:\/\//.test(address) ? address : `http://${address}`;
  let res: Response;
  try {
    res = await fetch(new URL('/load', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(json),
    });
  } catch (err) {
    process.stderr.write(`error: cannot reach the admin API at ${base}: ${(err as Error).cause ?? (err as Error).message}\n`);
    return 1;
  }
  if (res.ok) {
    process.stdout.write('config loaded\n');
    return 0;
  }
  const answer = (await res.json().catch(() => ({}))) as { error?: string; issues?: ConfigIssue[] };
  printIssues('error', answer.issues ?? []);
  process.stderr.write(`error: ${answer.error ?? res.statusText} (the running config is unchanged)\n`);
  return 1;
}

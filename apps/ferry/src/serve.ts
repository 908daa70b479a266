import type { Logger } from '@ferry/core';
import { AdminServer, adminOptionsOf, type AdminTarget } from '@ferry/core/internal';

/** What `ferry run` serves: one FerryApp, or the pool of `--workers N`. */
export interface Running {
  /** What the admin API reads, reloads and stops. */
  target: AdminTarget;
  /** Stops without a grace period (nothing has been served yet). */
  stopNow: () => Promise<void>;
  /** A second signal: ends everything at once. */
  exitNow: () => void;
}

/**
 * Serves the admin API beside what runs, and stops it all on SIGINT/SIGTERM or POST /stop.
 * Resolves with the exit code once everything has stopped.
 */
export async function serve(running: Running, config: unknown, logger: Logger): Promise<number> {
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

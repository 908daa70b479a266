import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFifo } from '@ferry/test-kit/fifo';
import { silentLogger } from '@ferry/core';
import { AdminServer } from '@ferry/core/internal';
import { defer } from '@ferry/test-kit/lifecycle';
import { call, config, portOf, served, startApp, type Answer } from './helpers.js';

/**
 * Issue #13 item 10: a FIFO as `load_files` hung the load, and with it the admin API's change
 * queue: every later change waited behind it.
 */

const dir = mkdtempSync(join(tmpdir(), 'ferry-admin-fifo-'));

/** The answer, or 'hung' when none came within `ms`. */
async function within(answer: Promise<Answer>, ms = 3000): Promise<Answer | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  const first = await Promise.race([answer, hung]);
  clearTimeout(timer);
  return first;
}

describe('admin API: load_files naming a FIFO', () => {
  it('answers 400 at once with the JSON path, and a later good /load still works', async () => {
    const app = await startApp(config('before'));
    const admin = new AdminServer(app, { listen: '127.0.0.1:0', logger: silentLogger() });
    await admin.start();
    defer(() => admin.close());
    const port = admin.address.port;

    const fifo = makeFifo(dir, 'cert.fifo');
    const bad = config('never');
    const withFifo = { apps: { ...bad.apps, tls: { certificates: { load_files: [{ certificate: fifo, key: fifo }] } } } };

    const refused = await within(call(port, 'POST', '/load', withFifo));
    expect(refused).not.toBe('hung');
    expect((refused as Answer).status).toBe(400);
    expect(JSON.parse((refused as Answer).body).issues).toContainEqual({
      path: 'apps.tls.certificates.load_files[0].certificate',
      message: `cannot read certificate file ${fifo}: is a named pipe (FIFO), not a regular file`,
    });

    const good = await within(call(port, 'POST', '/load', config('after')));
    expect(good).not.toBe('hung');
    expect((good as Answer).status).toBe(200);
    expect(await served(portOf(app))).toBe('after');
  });
});

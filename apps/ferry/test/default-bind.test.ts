import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Ferry } from '@ferry/test-kit/ferry';
import { refused } from '@ferry/test-kit/ports';
import { configFile, ferry } from './cli.js';

/**
 * Issue #13 item 10: `ferry run` without a config bound the demo — `/metrics` included — on
 * every interface. It is a local demo: loopback unless `--host` asks for more.
 */

interface DemoConfig {
  apps: { http: { servers: Record<string, { listen: string[] }> }; tls: { automation: { policies: { subjects: string[] }[] } } };
}

async function printed(...args: string[]): Promise<DemoConfig> {
  const r = await ferry(['run', '--print-default-config', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as DemoConfig;
}

const listens = (config: DemoConfig) => Object.fromEntries(Object.entries(config.apps.http.servers).map(([name, s]) => [name, s.listen]));

/** This machine's addresses that are not loopback (none on a box with only `lo`). */
const outward = Object.values(networkInterfaces())
  .flat()
  .filter((a) => a !== undefined && !a.internal && a.family === 'IPv4')
  .map((a) => a!.address);

describe('the embedded default', () => {
  it('listens on 127.0.0.1 only: its servers log loopback addresses, and another interface of the machine is refused', async () => {
    const config = await printed();
    expect(listens(config)).toEqual({ demo: ['127.0.0.1:8080'], demo_tls: ['127.0.0.1:8443'], upstream: ['127.0.0.1:8079'] });
    // The same config on free ports (the host kept), so the test never fights over 8080.
    for (const s of Object.values(config.apps.http.servers)) s.listen = s.listen.map((l) => l.replace(/:\d+$/, ':0'));
    const run = new Ferry(['run', '--config', configFile(config)]);
    const lines = await Promise.all(
      ['demo', 'demo_tls', 'upstream'].map((server) =>
        run.waitFor((e) => e.msg === 'listening' && e.server === server, `${server} listening`),
      ),
    );
    for (const line of lines) {
      expect(line.listen).toBe('127.0.0.1:0');
      expect(await refused(line.port as number)).toBe(false);
      for (const address of outward) expect(await refused(line.port as number, address), `${address}:${String(line.port)}`).toBe(true);
    }
  });

  it('listens where --host says: 0.0.0.0 is every interface, the WebSocket upstream stays on loopback', async () => {
    expect(listens(await printed('--host', '0.0.0.0'))).toEqual({
      demo: ['0.0.0.0:8080'],
      demo_tls: ['0.0.0.0:8443'],
      upstream: ['127.0.0.1:8079'],
    });
    expect(listens(await printed('--host', '::'))).toEqual({ demo: ['[::]:8080'], demo_tls: ['[::]:8443'], upstream: ['127.0.0.1:8079'] });
  });

  it('adds a specific --host to the certificate of the https demo', async () => {
    const config = await printed('--host', '192.0.2.7');
    expect(listens(config).demo).toEqual(['192.0.2.7:8080']);
    expect(config.apps.tls.automation.policies[0]!.subjects).toEqual(['localhost', '127.0.0.1', '192.0.2.7']);
  });

  it('refuses --host with --config, and a --host that is not an address or host name (exit 2)', async () => {
    const withConfig = await ferry(['run', '--host', '0.0.0.0', '--config', configFile({ apps: {} })]);
    expect(withConfig.code).toBe(2);
    expect(withConfig.stderr).toMatch(/--host applies to the embedded default only/);
    for (const bad of ['a b', '0.0.0.0:8080', '', '[::1]']) {
      const r = await ferry(['run', '--print-default-config', '--host', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--host must be an IP address or a host name/);
    }
  });
});

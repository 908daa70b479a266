import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '@ferry/test-kit/ports';
import { CHROMIUM } from './setup.js';

const CLI = fileURLToPath(new URL('../../apps/ferry/dist/cli.js', import.meta.url));
const ARTEFACTS = fileURLToPath(new URL('../../test-results/e2e/', import.meta.url));

let ferry: ChildProcess;
let browser: Browser;
let http: string;
let https: string;
let stderr = '';

beforeAll(async () => {
  // The embedded default exactly as `ferry run` serves it, moved to free ports so tests never
  // fight over :8080/:8443.
  const printed = spawn(process.execPath, [CLI, 'run', '--print-default-config'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  printed.stdout!.setEncoding('utf8').on('data', (d: string) => (text += d));
  await once(printed, 'close');
  const [p1, p2, p3] = await freePorts(3);
  text = text
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${p1}`)
    .replaceAll('127.0.0.1:8443', `127.0.0.1:${p2}`)
    .replaceAll('127.0.0.1:8079', `127.0.0.1:${p3}`);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-'));
  writeFileSync(join(dir, 'ferry.json'), text);
  ferry = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'ferry.json')], {
    env: { ...process.env, FERRY_CACHE_DIR: join(dir, 'cache'), FERRY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  ferry.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // Ready when all three servers say they listen.
  await new Promise<void>((resolve, reject) => {
    const check = () => (stderr.split('"msg":"listening"').length - 1 >= 3 ? resolve() : undefined);
    ferry.stderr!.on('data', check);
    ferry.once('exit', (code) => reject(new Error(`ferry exited (${code}):\n${stderr}`)));
  });
  http = `http://localhost:${p1}`;
  https = `https://localhost:${p2}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(ARTEFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (ferry && ferry.exitCode === null) {
    ferry.kill('SIGTERM');
    const [code] = await once(ferry, 'exit');
    expect(code).toBe(0);
  }
});

async function open(url: string): Promise<{ page: Page; encoding: string | undefined }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const res = await page.goto(url);
  expect(res?.status()).toBe(200);
  return { page, encoding: (await res!.allHeaders())['content-encoding'] };
}

for (const scheme of ['https', 'http'] as const) {
  describe(`the default page over ${scheme}`, () => {
    it('arrives compressed, ticks its SSE clock, updates its status panel, echoes over WebSocket and full duplex', async () => {
      const { page, encoding } = await open(scheme === 'https' ? https : http);
      // Compressed (a sidecar built at build time), and the page says with what.
      expect(['br', 'gzip']).toContain(encoding);
      await expect.poll(() => page.getByTestId('encoding').textContent()).toBe(encoding);
      // A static page: the script asks /whoami for the protocol.
      await expect.poll(() => page.getByTestId('proto').textContent()).toBe(scheme === 'https' ? 'HTTP/2.0' : 'HTTP/1.1');

      // SSE clock: at least two ticks.
      await page.waitForFunction(
        () => /^[2-9]\d* ticks|^\d{2,} ticks/.test(document.getElementById('ticks')!.textContent ?? ''),
        undefined,
        { timeout: 10_000 },
      );

      // Status panel: the upstream shows healthy, counters move.
      await page.waitForFunction(
        () => (document.querySelector('[data-testid=upstreams]')?.textContent ?? '').includes('healthy'),
        undefined,
        { timeout: 15_000 },
      );
      await page.waitForFunction(() => Number(document.getElementById('sse')!.textContent) >= 1, undefined, { timeout: 10_000 });

      // WebSocket echo through reverse_proxy.
      await page.waitForFunction(() => !(document.getElementById('ws-send') as HTMLButtonElement).disabled, undefined, { timeout: 10_000 });
      await page.locator('#ws-input').fill(`hello over ${scheme}`);
      await page.locator('#ws-send').click();
      await expect.poll(() => page.getByTestId('ws-log').textContent(), { timeout: 10_000 }).toContain(`← hello over ${scheme}`);
      const transport = await page.getByTestId('ws-transport').getAttribute('data-transport');
      if (scheme === 'http') expect(transport).toBe('http/1.1');
      else {
        // Chromium speaks RFC 8441 when the h2 server allows it; record what it chose.
        expect(['h2', 'http/1.1']).toContain(transport);
        writeFileSync(join(ARTEFACTS, 'websocket-transport.txt'), `${transport}\n`);
      }
      await page.waitForFunction(() => Number(document.getElementById('websocket')!.textContent) >= 1, undefined, { timeout: 10_000 });

      // Full-duplex echo: all eight chunks come back.
      await page.locator('#dx-start').click();
      await page.waitForFunction(() => document.querySelector('[data-testid=dx-mode]')?.getAttribute('data-done') === '8', undefined, {
        timeout: 15_000,
      });
      const mode = await page.getByTestId('dx-mode').textContent();
      if (scheme === 'https') expect(mode).toMatch(/^streaming upload/);

      await page.screenshot({ path: join(ARTEFACTS, `showcase-${scheme}.png`), fullPage: true });
      await page.context().close();
    });
  });
}

import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';
import { expectChannelRoundTrip } from './sse-round-trip.js';

const example = readmeExample(
  { example: new URL('./sse-in-hono.ts', import.meta.url), readme: new URL('../../packages/sse/README.md', import.meta.url) },
  () => import('./sse-in-hono.js'),
);

it('the sse README shows the Hono example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('streams the channel from a Hono route (@hono/node-server): head at once, every event, the missed ones on reconnect, a leaver noticed', async () => {
  const { news } = await import('./sse-in-hono.js');
  await expectChannelRoundTrip(example.url, news);
});

import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';
import { expectChannelRoundTrip } from './sse-round-trip.js';

const example = readmeExample(
  { example: new URL('./sse-in-express.ts', import.meta.url), readme: new URL('../../packages/sse/README.md', import.meta.url) },
  () => import('./sse-in-express.js'),
);

it('the sse README shows the Express example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('streams the channel from an Express route: head at once, every event, the missed ones on reconnect, a leaver noticed', async () => {
  const { news } = await import('./sse-in-express.js');
  await expectChannelRoundTrip(example.url, news);
});

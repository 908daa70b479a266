import { describe, expect, it } from 'vitest';
import { staticResponse, urlPattern } from '../src/index.js';
import { issuesOf, load } from './helpers/config.js';
import { send, useServers } from './helpers/http.js';

/**
 * Caddy's `url_pattern` matcher, in Caddy's JSON: one pathname pattern, case-sensitive unless
 * `ignore_case`, captures as {http.url_pattern.pathname.NAME}. Matched on the cleaned path.
 */

const SRV = 'apps.http.servers.srv0';
const serve = useServers();

function config(match: Record<string, unknown>, body = 'book {http.url_pattern.pathname.id} {http.url_pattern.pathname.nope}|') {
  return {
    admin: { disabled: true },
    apps: {
      http: {
        servers: {
          srv0: {
            listen: ['127.0.0.1:0'],
            routes: [
              {
                match: [match],
                handle: [{ handler: 'static_response', body }],
                terminal: true,
              },
              { handle: [{ handler: 'static_response', status_code: 404, body: 'other' }] },
            ],
          },
        },
      },
    },
  };
}

async function started(match: Record<string, unknown>): Promise<string> {
  const app = await load(config(match));
  await app.start();
  return app.servers[0]!.url;
}

describe('the url_pattern matcher', () => {
  it("matches Caddy's JSON and fills {http.url_pattern.pathname.*}, percent-decoded, on the cleaned path", async () => {
    const url = await started({ url_pattern: { pattern: '/books/:id' } });
    const cases: [string, string][] = [
      ['/books/42', 'book 42 |'],
      ['/books/caf%C3%A9', 'book café |'],
      ['/books/a%2Fb', 'book a/b |'],
      ['/x/../books/7', 'book 7 |'],
      ['/books//8', 'book 8 |'],
      ['/books/9/', 'other'],
      ['/books/9/more', 'other'],
      ['/book/9', 'other'],
    ];
    for (const [path, body] of cases) expect((await send(url, path)).body, path).toBe(body);
  });

  it("is case-sensitive as Caddy's unless ignore_case", async () => {
    const exact = await started({ url_pattern: { pattern: '/books/:id' } });
    expect((await send(exact, '/BOOKS/1')).body).toBe('other');
    const loose = await started({ url_pattern: { pattern: '/books/:id', ignore_case: true } });
    expect((await send(loose, '/BOOKS/1')).body).toBe('book 1 |');
  });

  it('takes a __proto__ param name as a plain name', async () => {
    const app = await load(config({ url_pattern: { pattern: '/p/:__proto__' } }, '[{http.url_pattern.pathname.__proto__}]'));
    await app.start();
    expect((await send(app.servers[0]!.url, '/p/polluted')).body).toBe('[polluted]');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses what Ferry cannot match, at the JSON path, saying why', async () => {
    const at = `${SRV}.routes[0].match[0].url_pattern`;
    expect(await issuesOf(config({ url_pattern: { pattern: '/books/:id', base_url: 'https://example.com' } }))).toEqual([
      expect.objectContaining({
        path: `${at}.base_url`,
        message: expect.stringMatching(/^Caddy's url_pattern option "base_url" is not supported by Ferry/),
      }),
    ]);
    const absolute = await issuesOf(config({ url_pattern: { pattern: 'https://example.com/books/:id' } }));
    expect(absolute).toEqual([expect.objectContaining({ path: `${at}.pattern`, message: expect.stringMatching(/starts with "\/"/) })]);
    const typo = await issuesOf(config({ url_pattern: { pattern: '/a', ignorecase: true } }));
    expect(typo).toEqual([
      expect.objectContaining({ path: `${at}.ignorecase`, message: expect.stringMatching(/did you mean "ignore_case"/) }),
    ]);
    const bad = await issuesOf(config({ url_pattern: { pattern: '/a/:id(' } }));
    expect(bad).toEqual([expect.objectContaining({ path: `${at}.pattern`, message: expect.stringMatching(/^invalid pattern/) })]);
  });

  it('is urlPattern() in code, with req.params', async () => {
    const server = await serve({
      routes: [
        {
          match: [urlPattern('/books/:id')],
          handle: [async (req, res) => void res.end(`params ${JSON.stringify(req.params)}`)],
        },
        { handle: [staticResponse({ statusCode: 404, body: 'other' })] },
      ],
    });
    expect((await send(server.url, '/books/12')).body).toBe('params {"id":"12"}');
    expect((await send(server.url, '/Books/12')).body).toBe('other');
  });
});

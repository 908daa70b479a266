import { describe, expect, it } from 'vitest';
import {
  compileRegexp,
  ConfigError,
  DONE,
  headerRegexp,
  headers,
  loadConfig,
  pathRegexp,
  silentLogger,
  staticResponse,
  type FerryApp,
  type MatcherSetInput,
  type Middleware,
  type RouteInput,
} from '../src/index.js';
import { bodyOf, send, useServers, type SendOptions } from './helpers/http.js';

const serve = useServers();

/**
 * A server whose only work between two timing middlewares is one matcher: the first route
 * notes the time and goes on, the second is the matcher under test, the last one (reached
 * when the matcher did not match) answers with how long the matcher took, measured in the
 * server's own event loop.
 */
async function timedMatcher(match: MatcherSetInput) {
  let started = 0;
  const mark: Middleware = (req, res, next) => {
    started = performance.now();
    return next(req, res);
  };
  const report: Middleware = (_req, res) => {
    res.end(String(performance.now() - started));
    return DONE;
  };
  const routes: RouteInput[] = [
    { handle: [mark] },
    { match: [match], handle: [staticResponse({ body: 'matched' })], terminal: true },
    { handle: [report] },
  ];
  return serve({ routes });
}

/** The milliseconds the matcher took for one request, as the server measured them. */
async function matchMs(url: string, path: string, options?: SendOptions): Promise<number> {
  const res = await send(url, path, options);
  expect(res.status).toBe(200);
  expect(res.body).not.toBe('matched');
  return Number(res.body);
}

/**
 * The first time (the engine's code not yet optimised by V8: still linear, but slower) and the
 * median of the next five.
 */
async function coldAndWarm(url: string, path: string, options?: SendOptions): Promise<{ cold: number; warm: number }> {
  const cold = await matchMs(url, path, options);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push(await matchMs(url, path, options));
  times.sort((a, b) => a - b);
  return { cold, warm: times[2]! };
}

// A pattern with nested quantifiers: a backtracking engine (V8's RegExp) takes time exponential
// in the length of a subject that almost matches (seconds for 30 characters, doubling per one
// more; a 10 KiB path would never finish).
const nested = '^/api/([a-z0-9]+-?)+/x$';

describe('regular expressions run in linear time (RE2, as in Caddy)', () => {
  it('path_regexp with nested quantifiers on a 10 KiB path takes well under 5 ms', async () => {
    const server = await timedMatcher(pathRegexp(nested));
    // The subject has both of the pattern's literal ends, so no substring pre-check can reject
    // it: the automaton runs over all of it.
    const hostile = `/api/${'a'.repeat(10 * 1024)}!/x`;
    const { cold, warm } = await coldAndWarm(server.url, hostile);
    expect(warm).toBeLessThan(5);
    expect(cold).toBeLessThan(250);
    // The event loop is not held up: requests in flight together are all answered.
    const replies = await Promise.all([send(server.url, hostile), send(server.url, '/api/ab-cd/x'), send(server.url, hostile)]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(replies[1]!.body).toBe('matched');
  });

  it('header_regexp with nested quantifiers on an 8 KiB header value takes well under 5 ms', async () => {
    const server = await timedMatcher(headerRegexp({ 'X-Token': { pattern: '^t:([a-z0-9]+-?)+$' } }));
    const { cold, warm } = await coldAndWarm(server.url, '/', { headers: { 'x-token': `t:${'a'.repeat(8 * 1024 - 3)}!` } });
    expect(warm).toBeLessThan(5);
    expect(cold).toBeLessThan(250);
    expect((await send(server.url, '/', { headers: { 'x-token': 't:ab-cd' } })).body).toBe('matched');
    // A long value that does match still has its captures found in linear time.
    expect((await send(server.url, '/', { headers: { 'x-token': `t:${'a'.repeat(8 * 1024 - 3)}` } })).body).toBe('matched');
  });

  it('a path glob with several * in one segment on a 10 KiB path takes well under 5 ms', async () => {
    // `*` is `[^/]*`: three in one segment backtracked polynomially in V8 (11 s for 4,000 characters).
    const server = await timedMatcher({ path: ['/assets/*-*-*.js'] });
    const { cold, warm } = await coldAndWarm(server.url, `/assets/${'-'.repeat(10 * 1024)}x`);
    expect(warm).toBeLessThan(5);
    expect(cold).toBeLessThan(250);
    expect(await bodyOf(server.url, '/assets/app-1-2.js')).toBe('matched');
    expect(await bodyOf(server.url, '/assets/app-1-2/x.js')).not.toBe('matched');
  });
});

describe('RE2 syntax, as Caddy configs are written', () => {
  it("Go's (?P<name>…) groups reach {http.regexp.NAME.GROUP} and {http.regexp.NAME.N}", async () => {
    const server = await serve({
      routes: [
        {
          match: [{ path_regexp: { name: 'user', pattern: '^/api/users/(?P<id>[0-9]+)(?:/(?P<tab>[a-z]+))?$' } }],
          handle: [
            {
              handler: 'static_response',
              body: 'id={http.regexp.user.id} 1={http.regexp.user.1} tab=[{http.regexp.user.tab}] 0={http.regexp.user.0}',
            },
          ],
        },
      ],
    });
    expect(await bodyOf(server.url, '/api/users/42/posts')).toBe('id=42 1=42 tab=[posts] 0=/api/users/42/posts');
    // A group that took no part is empty, as in Caddy.
    expect(await bodyOf(server.url, '/api/users/7')).toBe('id=7 1=7 tab=[] 0=/api/users/7');
    expect(await bodyOf(server.url, '/api/users/x')).toBe('');
  });

  it("Go's (?P<name>…) groups work from code too: pathRegexp(pattern, name) fills req.captures", async () => {
    const server = await serve({
      routes: [
        {
          match: [pathRegexp('^/api/users/(?P<id>[^/]+)$', 'user')],
          handle: [
            (req, res) => {
              res.end(`id=${req.captures.get('user.id')}`);
              return DONE;
            },
          ],
        },
      ],
    });
    expect(await bodyOf(server.url, '/api/users/42')).toBe('id=42');
  });

  it('(?<name>…) groups work too, and unnamed matchers expose {http.regexp.GROUP}', async () => {
    const server = await serve({
      routes: [
        {
          match: [{ path_regexp: { pattern: '^/docs/(?<slug>[a-z-]+)\\.md$' } }],
          handle: [{ handler: 'static_response', body: '{http.regexp.slug}|{http.regexp.1}' }],
        },
      ],
    });
    expect(await bodyOf(server.url, '/docs/getting-started.md')).toBe('getting-started|getting-started');
  });

  it('matches unanchored, with the leftmost match and its captures', async () => {
    const server = await serve({
      routes: [{ match: [pathRegexp('/v([0-9]+)/')], handle: [staticResponse({ body: '{http.regexp.0}|{http.regexp.1}' })] }],
    });
    expect(await bodyOf(server.url, '/api/v2/items/v3/')).toBe('/v2/|2');
  });

  it('(?i) makes a pattern case-insensitive', async () => {
    const server = await serve({
      routes: [
        {
          match: [headerRegexp({ 'User-Agent': { pattern: '(?i)firefox/([0-9]+)', name: 'ua' } })],
          handle: [staticResponse({ body: '{http.regexp.ua.1}' })],
        },
      ],
    });
    expect(await bodyOf(server.url, '/', { headers: { 'user-agent': 'Mozilla/5.0 FireFox/128.0' } })).toBe('128');
  });

  it('headers replace with search_regexp expands $1, ${name} and $$ as Go does', async () => {
    const preset: Middleware = (req, res, next) => {
      res.setHeader('X-Version', 'app v3.14');
      res.setHeader('X-Pair', 'left-right');
      return next(req, res);
    };
    const server = await serve({
      routes: [
        {
          handle: [
            preset,
            headers({
              response: {
                replace: {
                  'X-Version': [{ searchRegexp: 'v(?P<major>[0-9]+)\\.([0-9]+)', replace: '${major}x-$2 $$1' }],
                  'X-Pair': [{ searchRegexp: '^(\\w+)-(\\w+)$', replace: '$2-$1' }],
                },
              },
            }),
            staticResponse({ body: 'x' }),
          ],
        },
      ],
    });
    const res = await send(server.url, '/');
    expect(res.headers['x-version']).toBe('app 3x-14 $1');
    expect(res.headers['x-pair']).toBe('right-left');
  });
});

describe('a pattern that RE2 cannot compile is a config error', () => {
  const issuesOf = async (routes: RouteInput[]) => {
    const err = await serve({ routes }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  };

  it('a syntax error, at the path_regexp matcher, with the pattern and the reason', async () => {
    const issues = await issuesOf([{ match: [{ path_regexp: { pattern: '^/a(' } }] }]);
    expect(issues).toEqual([
      { path: 'routes[0].match[0].path_regexp', message: 'invalid regular expression "^/a(": missing closing ): `^/a(`' },
    ]);
  });

  it('lookahead, written for JavaScript, says that RE2 syntax is used as in Caddy', async () => {
    const issues = await issuesOf([{ match: [{ path_regexp: { pattern: '^/(?!admin)' } }] }]);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('routes[0].match[0].path_regexp');
    expect(issues[0]!.message).toMatch(/^invalid regular expression "\^\/\(\?!admin\)": invalid or unsupported Perl syntax: `\(\?!`/);
    expect(issues[0]!.message).toContain('RE2 syntax for regular expressions, as Caddy does, and RE2 has no lookahead');
  });

  it('lookbehind and backreferences say so too', async () => {
    const lookbehind = await issuesOf([{ match: [{ path_regexp: { pattern: '(?<=/api)/x' } }] }]);
    expect(lookbehind[0]!.message).toContain('RE2 has no lookbehind');
    const backref = await issuesOf([{ match: [{ path_regexp: { pattern: '^/(a+)/\\1$' } }] }]);
    expect(backref[0]!.message).toContain('invalid escape sequence: `\\1`');
    expect(backref[0]!.message).toContain('RE2 has no backreferences');
  });

  it("Python's and PCRE's (?P=name) and (?P>name), which Go's syntax lacks, say so", async () => {
    const backref = await issuesOf([{ match: [{ path_regexp: { pattern: '^/(?P<a>x)/(?P=a)$' } }] }]);
    expect(backref[0]!.message).toContain('invalid or unsupported Perl syntax: `(?P`');
    expect(backref[0]!.message).toContain('RE2 has no named backreferences ((?P=name))');
    const recursion = await issuesOf([{ match: [{ path_regexp: { pattern: '(?P>a)' } }] }]);
    expect(recursion[0]!.message).toContain('RE2 has no recursion ((?P>name))');
  });

  it('a group name that is not a word says how to write one', async () => {
    for (const pattern of ['^/(?P<user-id>[0-9]+)$', '^/(?<user id>[0-9]+)$']) {
      const issues = await issuesOf([{ match: [{ path_regexp: { pattern } }] }]);
      expect(issues[0]!.message).toContain('invalid named capture');
      expect(issues[0]!.message).toContain('a group name is letters, digits and _ only, as in (?P<user_id>…) or (?<user_id>…)');
    }
  });

  it('header_regexp: at the field whose pattern it is', async () => {
    const issues = await issuesOf([{ match: [{ header_regexp: { 'X-Token': { pattern: '[z-a]' } } }] }]);
    expect(issues).toEqual([
      {
        path: 'routes[0].match[0].header_regexp["X-Token"].pattern',
        message: 'invalid regular expression "[z-a]": invalid character class range: `z-a`',
      },
    ]);
  });

  it('search_regexp in header ops: at the replacement', async () => {
    const issues = await issuesOf([
      {
        handle: [
          {
            handler: 'headers',
            response: {
              replace: {
                'X-A': [
                  { search: 'a', replace: 'b' },
                  { search_regexp: 'a**', replace: 'b' },
                ],
              },
            },
          },
        ],
      },
    ]);
    expect(issues).toEqual([
      {
        path: 'routes[0].handle[0].response.replace["X-A"][1].search_regexp',
        message: 'invalid regular expression "a**": invalid nested repetition operator: `**`',
      },
    ]);
  });

  it('from a config file, at its full JSON path', async () => {
    const err = await loadConfig(
      {
        admin: { disabled: true },
        apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes: [{ match: [{ path_regexp: { pattern: '(?=x)' } }] }] } } } },
      },
      { logger: silentLogger() },
    ).then(
      async (app: FerryApp) => {
        await app.stop(0);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['apps.http.servers.srv0.routes[0].match[0].path_regexp']);
  });
});

describe('ConfigRegexp', () => {
  it('exec: the leftmost match, numbered and named captures', () => {
    const re = compileRegexp('(?P<first>\\w+) (?:(?P<middle>\\w+) )?(?<last>\\w+)');
    expect(re.groupCount).toBe(3);
    expect([...re.groupNames]).toEqual([
      ['first', 1],
      ['middle', 2],
      ['last', 3],
    ]);
    const m = re.exec('-- John Doe')!;
    expect(m.index).toBe(3);
    expect(m.captures).toEqual(['John Doe', 'John', '', 'Doe']);
    expect({ ...m.groups }).toEqual({ first: 'John', middle: '', last: 'Doe' });
    expect(re.exec('--')).toBeNull();
    expect(re.test('a b')).toBe(true);
  });

  it('a group named __proto__ is a plain entry of groups', () => {
    const m = compileRegexp('(?P<__proto__>x)').exec('x')!;
    expect(Object.getOwnPropertyDescriptor(m.groups, '__proto__')?.value).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("replaceAll: Go's ReplaceAllString (the examples of Go's documentation)", () => {
    const re = compileRegexp('a(x*)b');
    expect(re.replaceAll('-ab-axxb-', 'T')).toBe('-T-T-');
    expect(re.replaceAll('-ab-axxb-', '$1')).toBe('--xx-');
    expect(re.replaceAll('-ab-axxb-', '$1W')).toBe('---');
    expect(re.replaceAll('-ab-axxb-', '${1}W')).toBe('-W-xxW-');
    const named = compileRegexp('a(?P<1W>x*)b');
    expect(named.replaceAll('-ab-axxb-', '$1W')).toBe('--xx-');
    expect(named.replaceAll('-ab-axxb-', '${1}W')).toBe('-W-xxW-');
  });

  it('replaceAll: $$, malformed references and groups that do not exist', () => {
    const re = compileRegexp('(?P<word>[a-z]+)');
    expect(re.replaceAll('ab cd', '$$word')).toBe('$word $word');
    expect(re.replaceAll('ab', '${word}-$word-$9-$-${-${word')).toBe('ab-ab--$-${-${word');
    expect(re.replaceAll('ab', '$01|$0')).toBe('|ab');
  });

  it('replaceAll: empty matches, as Go (none right after a match; surrogate pairs kept whole)', () => {
    expect(compileRegexp('a*').replaceAll('baaac', '-')).toBe('-b-c-');
    expect(compileRegexp('x*').replaceAll('a😀b', '-')).toBe('-a-😀-b-');
    expect(compileRegexp('(\\d)?').replaceAll('a1b', '<$1>')).toBe('<>a<1>b<>');
  });
});

import { describe, expect, it } from 'vitest';
import { send } from './helpers/http.js';
import { issuesOf, load } from './helpers/config.js';

/**
 * Config JSON comes from files and the admin API: a key that names an object prototype
 * (`"__proto__"`, which JSON.parse makes an own key but any copy by assignment turns into a
 * prototype change) must be refused with its path, never dropped or followed.
 */

/** The issues of a config given as JSON text (JSON.parse keeps `__proto__` as an own key). */
const issuesOfText = (text: string) => issuesOf(JSON.parse(text));

/** A one-server config (as JSON text) whose route list is `routes` (JSON text). */
const withRoutes = (routes: string) => `{"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:0"],"routes":${routes}}}}}}`;

describe('config keys that name an object prototype', () => {
  const cases: [string, string, string][] = [
    ['a server named __proto__', '{"apps":{"http":{"servers":{"__proto__":{"listen":["127.0.0.1:0"]}}}}}', 'apps.http.servers.__proto__'],
    [
      'a vars handler key',
      withRoutes('[{"handle":[{"handler":"vars","__proto__":{"a":1}}]}]'),
      'apps.http.servers.s.routes[0].handle[0].__proto__',
    ],
    [
      'a header op field name',
      withRoutes('[{"handle":[{"handler":"headers","response":{"set":{"__proto__":["x"]}}}]}]'),
      'apps.http.servers.s.routes[0].handle[0].response.set.__proto__',
    ],
    [
      'a query matcher key',
      withRoutes('[{"match":[{"query":{"__proto__":["x"]}}],"handle":[]}]'),
      'apps.http.servers.s.routes[0].match[0].query.__proto__',
    ],
    ['a top-level key', '{"__proto__":{"admin":{"disabled":true}}}', '__proto__'],
    ['a constructor key', '{"apps":{"http":{"servers":{"constructor":{"listen":["127.0.0.1:0"]}}}}}', 'apps.http.servers.constructor'],
    ['a prototype key', withRoutes('[{"handle":[{"handler":"vars","prototype":1}]}]'), 'apps.http.servers.s.routes[0].handle[0].prototype'],
  ];
  for (const [what, text, path] of cases) {
    it(`refuses ${what}, naming its JSON path`, async () => {
      const issues = await issuesOfText(text);
      const issue = issues.find((i) => i.path === path);
      expect(issue, JSON.stringify(issues)).toBeDefined();
      expect(issue!.message).toMatch(/not allowed as a key/);
    });
  }
});

describe('names that are Object.prototype members', () => {
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    it(`a handler named "${name}" is an unknown handler`, async () => {
      const issues = await issuesOfText(withRoutes(`[{"handle":[{"handler":${JSON.stringify(name)}}]}]`));
      expect(issues).toEqual([
        { path: 'apps.http.servers.s.routes[0].handle[0].handler', message: expect.stringMatching(/^unknown handler/) },
      ]);
    });
  }

  it('a matcher named "toString" is an unknown matcher', async () => {
    const issues = await issuesOfText(withRoutes('[{"match":[{"toString":{}}],"handle":[]}]'));
    expect(issues).toEqual([
      { path: 'apps.http.servers.s.routes[0].match[0].toString', message: expect.stringMatching(/^unknown matcher/) },
    ]);
  });

  it('placeholders {http.vars.__proto__} and {http.vars.toString} render empty when unset', async () => {
    const body = '[{http.vars.__proto__}|{http.vars.toString}|{http.vars.constructor}]';
    const app = await load(JSON.parse(withRoutes(JSON.stringify([{ handle: [{ handler: 'static_response', body }] }]))));
    await app.start();
    const reply = await send(`http://127.0.0.1:${app.servers[0]!.addresses[0]!.port}`);
    expect(reply.body).toBe('[||]');
  });
});

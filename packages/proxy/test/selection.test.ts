import { describe, expect, it } from 'vitest';
import { deferred, startProxy, type ProxyOptions } from './helpers/net.js';
import { h1Get } from '@ferry/test-kit/clients';
import { httpUpstream } from '@ferry/test-kit/upstreams';

type Policy = NonNullable<NonNullable<NonNullable<ProxyOptions>['loadBalancing']>['selectionPolicy']>;

/** Two or more named upstreams and a proxy over them with `policy`. */
async function pool(names: string[], policy: Policy, extra: Partial<ProxyOptions> = {}) {
  const ups = await Promise.all(names.map((n) => httpUpstream(n)));
  const proxy = await startProxy({ upstreams: ups.map((u) => ({ dial: u.dial })), loadBalancing: { selectionPolicy: policy }, ...extra });
  /** Which upstream answered one GET. */
  const who = async (path = '/', headers: Record<string, string> = {}, localAddress?: string) => {
    const r = await h1Get(proxy.url + path, { headers, ...(localAddress ? { localAddress } : {}) });
    expect(r.status).toBe(200);
    return r.body.toString();
  };
  return { ups, proxy, who };
}

describe('upstream dial addresses', () => {
  it('resolves placeholders in dial per request, so a header can choose the port', async () => {
    const a = await httpUpstream('a');
    const b = await httpUpstream('b');
    const proxy = await startProxy({ upstreams: [{ dial: '127.0.0.1:{http.request.header.X-Port}' }] });
    expect((await h1Get(proxy.url, { headers: { 'x-port': String(a.port) } })).body.toString()).toBe('a');
    expect((await h1Get(proxy.url, { headers: { 'x-port': String(b.port) } })).body.toString()).toBe('b');
    expect((await h1Get(proxy.url, { headers: { 'x-port': String(a.port) } })).body.toString()).toBe('a');
  });
});

describe('selection policies', () => {
  it('random (the default) eventually uses every upstream', async () => {
    const ups = await Promise.all(['a', 'b', 'c'].map((n) => httpUpstream(n)));
    const proxy = await startProxy({ upstreams: ups.map((u) => ({ dial: u.dial })) });
    const used = new Set<string>();
    for (let i = 0; i < 200 && used.size < 3; i++) used.add((await h1Get(proxy.url)).body.toString());
    expect([...used].sort()).toEqual(['a', 'b', 'c']);
  });

  it('round_robin alternates strictly', async () => {
    const { who } = await pool(['a', 'b'], { policy: 'round_robin' });
    const seq: string[] = [];
    for (let i = 0; i < 6; i++) seq.push(await who());
    expect(seq.join('')).toMatch(/^(ab){3}$|^(ba){3}$/);
  });

  it('weighted_round_robin with weights [3, 1] sends 3 of every 4 requests to the first', async () => {
    const { who } = await pool(['a', 'b'], { policy: 'weighted_round_robin', weights: [3, 1] });
    const seq: string[] = [];
    for (let i = 0; i < 8; i++) seq.push(await who());
    expect(seq.filter((s) => s === 'a')).toHaveLength(6);
    expect(seq.filter((s) => s === 'b')).toHaveLength(2);
    // Each run of four holds one b: the weight is spread, not bunched.
    expect(seq.slice(0, 4).filter((s) => s === 'b')).toHaveLength(1);
  });

  it('least_conn sends new requests away from the upstream holding a slow one', async () => {
    const release = deferred();
    const arrived = deferred<string>();
    const handler = (name: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      req.resume();
      if (req.url === '/slow') {
        arrived.resolve(name);
        void release.promise.then(() => res.end(name));
      } else res.end(name);
    };
    const a = await httpUpstream('a', handler('a'));
    const b = await httpUpstream('b', handler('b'));
    const proxy = await startProxy({
      upstreams: [{ dial: a.dial }, { dial: b.dial }],
      loadBalancing: { selectionPolicy: { policy: 'least_conn' } },
    });
    const slow = h1Get(`${proxy.url}/slow`);
    const busy = await arrived.promise;
    const other = busy === 'a' ? 'b' : 'a';
    for (let i = 0; i < 5; i++) expect((await h1Get(`${proxy.url}/fast`)).body.toString()).toBe(other);
    release.resolve();
    expect((await slow).body.toString()).toBe(busy);
  });

  it('first always picks the first available upstream', async () => {
    const { who } = await pool(['a', 'b', 'c'], { policy: 'first' });
    for (let i = 0; i < 5; i++) expect(await who()).toBe('a');
  });

  it('ip_hash keeps each client on one upstream and spreads clients over them', async () => {
    const { who } = await pool(['a', 'b'], { policy: 'ip_hash' });
    const byClient = new Map<string, string>();
    for (let i = 2; i < 22; i++) {
      const ip = `127.0.0.${i}`;
      const first = await who('/', {}, ip);
      expect(await who('/', {}, ip)).toBe(first);
      expect(await who('/other', {}, ip)).toBe(first);
      byClient.set(ip, first);
    }
    expect(new Set(byClient.values()).size).toBe(2);
  });

  it('client_ip_hash hashes the X-Forwarded-For client when the peer is a trusted proxy', async () => {
    const { who } = await pool(['a', 'b'], { policy: 'client_ip_hash' }, { trustedProxies: ['127.0.0.1/32'] });
    const seen = new Set<string>();
    for (let i = 1; i <= 20; i++) {
      const xff = { 'x-forwarded-for': `203.0.113.${i}` };
      const first = await who('/', xff);
      expect(await who('/', xff)).toBe(first);
      seen.add(first);
    }
    expect(seen.size).toBe(2);
  });

  it('client_ip_hash ignores X-Forwarded-For from an untrusted peer', async () => {
    const { who } = await pool(['a', 'b'], { policy: 'client_ip_hash' });
    const first = await who('/', { 'x-forwarded-for': '203.0.113.1' });
    for (let i = 2; i <= 20; i++) expect(await who('/', { 'x-forwarded-for': `203.0.113.${i}` })).toBe(first);
  });

  it('uri_hash sends the same URI to the same upstream', async () => {
    const { who } = await pool(['a', 'b'], { policy: 'uri_hash' });
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const first = await who(`/item/${i}?q=1`);
      expect(await who(`/item/${i}?q=1`)).toBe(first);
      seen.add(first);
    }
    expect(seen.size).toBe(2);
  });

  it('header hashes the named field: one value, one upstream', async () => {
    const { who } = await pool(['a', 'b'], { policy: 'header', field: 'X-User' });
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const h = { 'x-user': `user-${i}` };
      const first = await who('/', h);
      expect(await who('/', h)).toBe(first);
      seen.add(first);
    }
    expect(seen.size).toBe(2);
  });

  it('header falls back to its fallback policy when the field is absent', async () => {
    const { who } = await pool(['a', 'b', 'c'], { policy: 'header', field: 'X-User', fallback: { policy: 'round_robin' } });
    const seq: string[] = [];
    for (let i = 0; i < 6; i++) seq.push(await who());
    expect(new Set(seq).size).toBe(3);
    expect(seq.slice(3)).toEqual(seq.slice(0, 3));
  });

  it('cookie sets an lb cookie, and a request carrying it sticks to that upstream', async () => {
    const { who, proxy } = await pool(['a', 'b', 'c'], { policy: 'cookie' });
    const first = await h1Get(proxy.url);
    const cookie = [first.headers['set-cookie']].flat().find((c) => c?.startsWith('lb='));
    expect(cookie).toBeDefined();
    const pair = cookie!.split(';')[0]!;
    const upstream = first.body.toString();
    for (let i = 0; i < 10; i++) expect(await who('/', { cookie: `other=1; ${pair}` })).toBe(upstream);
  });

  it("cookie keeps the upstream's own Set-Cookie beside the lb cookie", async () => {
    const a = await httpUpstream('a', (req, res) => {
      req.resume();
      res.setHeader('set-cookie', 'session=abc; Path=/');
      res.end('a');
    });
    const proxy = await startProxy({ upstreams: [{ dial: a.dial }], loadBalancing: { selectionPolicy: { policy: 'cookie' } } });
    const r = await h1Get(proxy.url);
    const cookies = [r.headers['set-cookie']].flat().map((c) => c!.split(';')[0]!.split('=')[0]);
    expect(cookies.sort()).toEqual(['lb', 'session']);
  });
});

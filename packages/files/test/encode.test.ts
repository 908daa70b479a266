/** encode in front of file_server: ordinary files are compressed on the fly, precompressed sidecars are sent as they are. */
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { h1Get } from '@ferry/test-kit/clients';
import { makeSite, serveConfig } from './helpers.js';

const TEXT = 'body { color: rebeccapurple; }\n'.repeat(200);

async function server() {
  const site = makeSite({ 'style.css': TEXT, 'app.css': TEXT, 'app.css.gz': gzipSync(TEXT, { level: 9 }) });
  return serveConfig({
    routes: [
      {
        handle: [
          { handler: 'encode', encodings: { gzip: {} } },
          { handler: 'file_server', root: site.root, precompressed: { gzip: {} } },
        ],
      },
    ],
  });
}

describe('file_server behind encode', () => {
  it('an ordinary text file is gzip-compressed by encode, its ETag suffixed, Vary once', async () => {
    const s = await server();
    const r = await h1Get(`${s.url}/style.css`, { headers: { 'accept-encoding': 'gzip' } });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(r.body).toString()).toBe(TEXT);
    expect(r.headers.etag).toMatch(/-gzip"$/);
    expect(r.headers.vary).toBe('Accept-Encoding');
    // Its 304: encode strips the suffix back off before file_server compares.
    const again = await h1Get(`${s.url}/style.css`, { headers: { 'accept-encoding': 'gzip', 'if-none-match': r.headers.etag as string } });
    expect(again.status).toBe(304);
  });

  it('a precompressed sidecar is sent byte for byte, never compressed twice', async () => {
    const s = await server();
    const r = await h1Get(`${s.url}/app.css`, { headers: { 'accept-encoding': 'gzip' } });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.body.equals(gzipSync(TEXT, { level: 9 }))).toBe(true);
    // Decoding once gives the text: a second layer would leave gzip bytes here.
    expect(gunzipSync(r.body).toString()).toBe(TEXT);
    expect(r.headers['content-length']).toBe(String(r.body.length));
  });

  it('a Range request is answered 206 from the file, uncompressed', async () => {
    const s = await server();
    const r = await h1Get(`${s.url}/style.css`, { headers: { 'accept-encoding': 'gzip', range: 'bytes=0-3' } });
    expect([r.status, r.headers['content-encoding'], r.body.toString()]).toEqual([206, undefined, 'body']);
  });
});

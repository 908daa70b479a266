/**
 * An HTTP/1.1 Upgrade request that carries a body (issue #13, item 10). Node stops parsing at the
 * head of an Upgrade request, so its body sits unframed in the connection's read-ahead: the proxy
 * must neither forward the Content-Length without the body (the upstream waits for ever) nor
 * splice the body bytes into the new protocol.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { acceptFor, netUpstream, rawClient, readUntil, startProxy } from './helpers/net.js';
import { portOf } from '@ferry/test-kit/servers';
import { httpUpstream, wsEchoUpstream } from '@ferry/test-kit/upstreams';
import { within } from '@ferry/test-kit/waiting';

/** Everything the proxy sends until it closes the connection. */
function untilClosed(sock: import('node:net').Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    sock.on('data', (c: Buffer) => (got += c.toString('latin1')));
    sock.once('close', () => resolve(got));
  });
}

/** Sends an Upgrade request with `framing` and `body` through a proxy to `dial`; resolves with all it answered before closing. */
async function answerTo(dial: string, framing: string, body: string): Promise<string> {
  const proxy = await startProxy({ upstreams: [{ dial }] });
  const sock = await rawClient(portOf(proxy));
  const answer = untilClosed(sock);
  sock.write(upgradeWithBody(framing, body));
  return within(answer, 3000, "the proxy's answer");
}

function upgradeWithBody(framing: string, body: string, key = randomBytes(16).toString('base64')): string {
  return (
    `GET /ws HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${framing}\r\n${body}`
  );
}

describe('an Upgrade request with a body', () => {
  it('is refused with 400 and the connection closed, not forwarded without its body, to an upstream that reads the body first', async () => {
    const up = await httpUpstream('reads-body', (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end(`got ${body}`));
    });
    const got = await answerTo(up.dial, 'Content-Length: 5\r\n', 'hello');
    expect(got).toMatch(/^HTTP\/1\.1 400 /);
    expect(got).not.toContain('HTTP/1.1 101');
    expect(up.seen).toHaveLength(0);
  });

  it('is refused with 400 when the upstream would switch protocols after reading the body', async () => {
    let connections = 0;
    const up = await netUpstream((socket) => {
      connections++;
      let buf = '';
      socket.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1 || buf.length < end + 4 + 5) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(buf)![1]!;
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
        );
      });
    });
    const got = await answerTo(up.dial, 'Content-Length: 5\r\n', 'hello');
    expect(got).toMatch(/^HTTP\/1\.1 400 /);
    expect(connections).toBe(0);
  });

  it('is refused with 400 when the body is chunked, so no chunk is spliced into the new protocol', async () => {
    const up = await wsEchoUpstream();
    const got = await answerTo(up.dial, 'Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n');
    expect(got).toMatch(/^HTTP\/1\.1 400 /);
    expect(up.handshakes).toHaveLength(0);
  });

  it('with Content-Length: 0 is still upgraded', async () => {
    const up = await wsEchoUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const sock = await rawClient(portOf(proxy));
    const key = randomBytes(16).toString('base64');
    sock.write(upgradeWithBody('Content-Length: 0\r\n', '', key));
    const head = (
      await within(
        readUntil(sock, (b) => b.includes('\r\n\r\n')),
        3000,
        'the response head',
      )
    ).toString('latin1');
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head.toLowerCase()).toContain(`sec-websocket-accept: ${acceptFor(key).toLowerCase()}`);
  });
});

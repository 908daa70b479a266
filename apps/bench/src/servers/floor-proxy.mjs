// The floor of a proxy built on node:http's server: the least code any of them runs for a request,
// to show how far a proxy's own code is from it. The least code, not the least work: the answer is
// copied into one Buffer and an upload held until its end, which for 64 KiB bodies costs more than
// Ferry's reused, lent reads (apps/bench/README.md). Not a usable proxy: one upstream, no header
// forwarded but Content-Type, bodies with a Content-Length only, no timeouts, any upstream
// trouble a 502. Each request takes an idle upstream connection (or dials one), writes its head as
// one Latin-1 string (and a body corked with it, so head and body leave in one write), reads the
// answer through `net`'s `onread` into that connection's own reused buffer, finds the end of the
// head and its Content-Length with two searches, and sends status, type and body with one end().
// An Upgrade (the ws scenario) is the request's head as received, then bytes both ways with
// `pipe`, the upstream's 101 among them, unread.
// Usage: node floor-proxy.mjs PORT UPSTREAM_PORT
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { HOST, portFromArgs, ready, upstreamPortFromArgs } from './common.mjs';

const port = portFromArgs();
const upstreamPort = upstreamPortFromArgs();
const idle = [];
const HEAD_END = Buffer.from('\r\n\r\n');

/** One kept-alive upstream connection and the answer it is reading. */
class Conn {
  read = Buffer.allocUnsafe(64 * 1024);
  /** The head read so far (a head may span reads), then the body being filled. */
  head = null;
  body = null;
  filled = 0;
  status = 0;
  type = '';
  res = null;

  constructor() {
    const onread = { buffer: this.read, callback: (n) => this.onRead(n) };
    this.socket = connect({ host: HOST, port: upstreamPort, noDelay: true, onread });
    this.socket.on('error', () => this.fail());
    this.socket.on('close', () => this.fail());
  }

  onRead(n) {
    if (!this.res) return this.socket.destroy();
    let bytes = this.read.subarray(0, n);
    if (!this.body) {
      this.head = this.head ? Buffer.concat([this.head, bytes]) : Buffer.from(bytes);
      const end = this.head.indexOf(HEAD_END);
      if (end === -1) return;
      const text = this.head.toString('latin1', 0, end).toLowerCase();
      this.status = Number(text.slice(9, 12));
      this.type = field(text, 'content-type') ?? 'application/octet-stream';
      this.body = Buffer.allocUnsafe(Number(field(text, 'content-length') ?? 0));
      bytes = this.head.subarray(end + 4);
      this.head = null;
    }
    this.filled += bytes.copy(this.body, this.filled);
    if (this.filled === this.body.length) this.done();
  }

  done() {
    const { res, body } = this;
    this.res = this.body = null;
    this.filled = 0;
    res.writeHead(this.status, { 'content-type': this.type, 'content-length': body.length });
    res.end(body);
    idle.push(this);
  }

  fail() {
    const i = idle.indexOf(this);
    if (i !== -1) idle.splice(i, 1);
    if (this.res && !this.res.headersSent) this.res.writeHead(502).end();
    this.res = null;
  }
}

/** A field's value from a lower-cased head, or undefined. */
function field(head, name) {
  const at = head.indexOf(`\r\n${name}:`);
  if (at === -1) return undefined;
  const from = at + name.length + 3;
  const to = head.indexOf('\r\n', from);
  return head.slice(from, to === -1 ? undefined : to).trim();
}

const server = createServer((req, res) => {
  const conn = idle.pop() ?? new Conn();
  conn.res = res;
  const length = req.headers['content-length'];
  const head = `${req.method} ${req.url} HTTP/1.1\r\nhost: ${HOST}\r\n${length ? `content-length: ${length}\r\n` : ''}\r\n`;
  if (!length) return conn.socket.write(head, 'latin1');
  const { socket } = conn;
  socket.cork();
  socket.write(head, 'latin1');
  req.on('data', (chunk) => socket.write(chunk));
  req.on('end', () => socket.uncork());
});

server.on('upgrade', (req, client, head) => {
  const up = connect({ host: HOST, port: upstreamPort, noDelay: true });
  client.setNoDelay(true);
  let lines = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  up.write(`${lines}\r\n`, 'latin1');
  if (head.length > 0) up.write(head);
  client.pipe(up).pipe(client);
  const close = () => {
    client.destroy();
    up.destroy();
  };
  for (const socket of [client, up]) socket.on('error', close).on('close', close);
});

server.listen(port, HOST, () => ready(port));

// The floor of a proxy built on node:http's server: the least any of them does for a request, to
// show how far a proxy's own code is from what Node itself costs. Not a usable proxy: one
// upstream, no header forwarded but Content-Type, bodies with a Content-Length only, no timeouts,
// any upstream trouble a 502. Each request takes an idle upstream connection (or dials one) and
// writes its head as one Latin-1 string, corked with what of an upload this poll phase reads (its
// first bytes leave in the head's write), the rest written as it comes. The answer is read
// through `net`'s `onread` into pooled 64 KiB buffers, its head found by two searches, and each
// read's body bytes handed to the client's socket without a copy (the buffer goes back to the
// pool from the write's callback); the response stays corked until the reads of this poll phase
// are written, so a 64 KiB answer leaves in one write, and a body that came whole with its head
// goes out with one end().
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
const READ_SIZE = 64 * 1024;
const free = [];

/** A read buffer from the pool, or a new one. */
const take = () => free.pop() ?? Buffer.allocUnsafeSlow(READ_SIZE);

/** Ends the cork `write` set, unless end() already wrote everything. */
function uncork(res) {
  if (!res.writableEnded) res.uncork();
}

/** One kept-alive upstream connection and the answer it is reading. */
class Conn {
  /** The buffer the current read landed in. */
  reading = null;
  /** A head that spanned reads, copied; null once the head is read. */
  partial = null;
  /** Body bytes still to come; -1 while the head is being read. */
  remaining = -1;
  res = null;
  /** The response is corked until the reads of this poll phase are written. */
  corked = false;

  constructor() {
    const onread = {
      buffer: () => {
        this.reading = take();
        return this.reading;
      },
      callback: (n) => {
        this.onRead(this.reading, n);
        return true;
      },
    };
    this.socket = connect({ host: HOST, port: upstreamPort, noDelay: true, onread });
    this.socket.on('error', () => this.fail());
    this.socket.on('close', () => this.fail());
  }

  onRead(buf, n) {
    const release = () => free.push(buf);
    if (!this.res) {
      release();
      return this.socket.destroy();
    }
    let bytes = buf.subarray(0, n);
    if (this.remaining === -1) {
      const head = this.partial ? Buffer.concat([this.partial, bytes]) : bytes;
      const end = head.indexOf(HEAD_END);
      if (end === -1) {
        this.partial = Buffer.from(head);
        return release();
      }
      const text = head.toString('latin1', 0, end).toLowerCase();
      this.remaining = Number(field(text, 'content-length') ?? 0);
      this.res.writeHead(Number(text.slice(9, 12)), {
        'content-type': field(text, 'content-type') ?? 'application/octet-stream',
        'content-length': this.remaining,
      });
      bytes = head.subarray(end + 4);
      this.partial = null;
    }
    this.body(bytes, release);
  }

  /** Body bytes lent from a read buffer: to the client, the buffer given back once written. */
  body(bytes, release) {
    const res = this.res;
    this.remaining -= bytes.length;
    if (this.remaining > 0) {
      if (!this.corked) {
        res.cork();
        this.corked = true;
        setImmediate(uncork, res);
      }
      return res.write(bytes, release);
    }
    this.res = null;
    this.remaining = -1;
    this.corked = false;
    idle.push(this);
    if (bytes.length === 0) {
      release();
      return res.end();
    }
    res.end(bytes, release);
  }

  fail() {
    const i = idle.indexOf(this);
    if (i !== -1) idle.splice(i, 1);
    if (this.res && !this.res.headersSent) this.res.writeHead(502).end();
    else this.res?.destroy();
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
  setImmediate(() => socket.uncork());
  req.on('data', (chunk) => socket.write(chunk));
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

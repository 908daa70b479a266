import { Client } from 'undici';
import { defer } from './lifecycle.js';

/** A dispatched event, as an EventSource's `MessageEvent` would carry it. */
export interface ReceivedEvent {
  type: string;
  data: string;
  lastEventId: string;
}

/**
 * The event stream interpretation of WHATWG HTML §9.2.6: lines end at CRLF, LF or CR; a blank line
 * dispatches; `data` lines join with LF; `id` (without NUL) sets the last event ID, which persists;
 * `retry` takes digits only; comments are counted; an event with no data is not dispatched.
 */
export class EventStreamParser {
  lastEventId = '';
  retry: number | undefined;
  comments = 0;
  #buf = '';
  #first = true;
  #skipLF = false;
  #data = '';
  #type = '';
  #idBuf = '';

  /**
   * `lastEventId`: the event source's last event ID so far. The spec starts each connection's id
   * buffer empty, but browsers (and undici's EventSource) carry it over a reconnection, so an
   * event without `id:` right after reconnecting keeps it; this parser does what they do.
   */
  constructor(
    private readonly onEvent: (ev: ReceivedEvent) => void,
    lastEventId = '',
  ) {
    this.lastEventId = this.#idBuf = lastEventId;
  }

  feed(chunk: string): void {
    if (this.#first && chunk.length > 0) {
      this.#first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.#skipLF && chunk.length > 0) {
      // The previous chunk ended with CR: a LF now is the second half of that CRLF.
      if (chunk[0] === '\n') chunk = chunk.slice(1);
      this.#skipLF = false;
    }
    this.#buf += chunk;
    const re = /\r\n|\r|\n/g;
    let start = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(this.#buf))) {
      if (m[0] === '\r' && m.index === this.#buf.length - 1) this.#skipLF = true;
      this.#line(this.#buf.slice(start, m.index));
      start = m.index + m[0].length;
    }
    this.#buf = this.#buf.slice(start);
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line[0] === ':') {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.#type = value;
    else if (field === 'data') this.#data += `${value}\n`;
    else if (field === 'id') {
      if (!value.includes('\0')) this.#idBuf = value;
    } else if (field === 'retry') {
      if (/^\d+$/.test(value)) this.retry = Number(value);
    }
  }

  #dispatch(): void {
    this.lastEventId = this.#idBuf;
    if (this.#data === '') {
      this.#type = '';
      return;
    }
    const data = this.#data.endsWith('\n') ? this.#data.slice(0, -1) : this.#data;
    const ev = { type: this.#type || 'message', data, lastEventId: this.lastEventId };
    this.#data = '';
    this.#type = '';
    this.onEvent(ev);
  }
}

/** Parses everything in `text` (a whole captured stream) into events. */
export function parseAll(text: string): ReceivedEvent[] {
  const out: ReceivedEvent[] = [];
  new EventStreamParser((ev) => out.push(ev)).feed(text);
  return out;
}

/**
 * A client with EventSource semantics over undici: it keeps the last event ID it saw and sends it
 * on every reconnection — as the `Last-Event-ID` header, or (as polyfills that cannot set headers
 * do) as `?lastEventId=`. Each connection is its own undici `Client`, so leaving really closes the
 * TCP connection.
 */
export class EventSourceClient {
  readonly events: ReceivedEvent[] = [];
  lastEventId = '';
  connections = 0;
  #cursor = 0;
  #client: Client | undefined;
  #wake: (() => void) | undefined;
  #ended = false;

  constructor(
    readonly url: string,
    readonly options: { idInQuery?: boolean; headers?: Record<string, string> } = {},
  ) {
    defer(() => this.disconnect());
  }

  /** Opens the stream (sending the last event ID if there is one); resolves at the response head. */
  async connect(): Promise<{ statusCode: number; headers: Record<string, string | string[] | undefined> }> {
    const u = new URL(this.url);
    const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache', ...this.options.headers };
    if (this.lastEventId !== '') {
      if (this.options.idInQuery) u.searchParams.set('lastEventId', this.lastEventId);
      else headers['last-event-id'] = this.lastEventId;
    }
    const client = (this.#client = new Client(u.origin));
    this.connections++;
    this.#ended = false;
    const res = await client.request({ method: 'GET', path: u.pathname + u.search, headers });
    const parser = new EventStreamParser((ev) => {
      this.events.push(ev);
      this.#wake?.();
    }, this.lastEventId);
    // UTF-8 decoded as a stream (a character may be split between chunks), as EventSource does.
    const decoder = new TextDecoder();
    res.body.on('data', (chunk: Buffer) => {
      parser.feed(decoder.decode(chunk, { stream: true }));
      this.lastEventId = parser.lastEventId;
    });
    const ended = () => {
      this.#ended = true;
      this.#wake?.();
    };
    res.body.on('end', ended);
    res.body.on('error', ended);
    res.body.on('close', ended);
    return { statusCode: res.statusCode, headers: res.headers };
  }

  /** The next event not yet taken. */
  async next(ms = 3000): Promise<ReceivedEvent> {
    const deadline = performance.now() + ms;
    while (this.#cursor >= this.events.length) {
      if (this.#ended) throw new Error(`stream ended; events so far: ${JSON.stringify(this.events)}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no event within ${ms}ms; events so far: ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.events[this.#cursor++]!;
  }

  /** The next `n` events. */
  async take(n: number, ms?: number): Promise<ReceivedEvent[]> {
    const out: ReceivedEvent[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(ms));
    return out;
  }

  /** Events received but not taken yet. */
  get pending(): number {
    return this.events.length - this.#cursor;
  }

  /** Leaves: the TCP connection is closed at once. */
  async disconnect(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (c) await c.destroy();
  }

  /** Leaves and comes back with the last event ID seen, as an EventSource does after a lost connection. */
  async reconnect() {
    await this.disconnect();
    return this.connect();
  }
}

/**
 * The HTTP/1.1 response parser (a pure byte parser: feeding it Buffers mocks no socket) under
 * fast-check: a valid response reads the same however the connection cuts it into reads, and
 * whether each read's buffer is reused afterwards (as its events' contract allows); bytes past
 * the framing are reported, never read as body; and a valid response mutated at random makes it
 * throw nothing but ResponseParseError, and never report more body than the bytes it was given.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HeaderRecord } from '../src/hop.js';
import { ResponseParseError, ResponseParser } from '../src/transport/h1-response.js';

const TOKEN = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&*+.^_`|~'];
const VALUE = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -,;=/.:()"\t'];

/** A field no framing or connection rule reads: `x-` and a token. */
const fieldName = fc.string({ unit: fc.constantFrom(...TOKEN), minLength: 1, maxLength: 16 }).map((s) => `x-${s}`);
/** A value from a safe alphabet, without the whitespace the parser trims around it. */
const fieldValue = fc.string({ unit: fc.constantFrom(...VALUE), maxLength: 40 }).map((s) => s.trim());
const fields = fc.uniqueArray(fc.tuple(fieldName, fieldValue), { selector: ([n]) => n.toLowerCase(), maxLength: 8 });

type Framing = { kind: 'length' } | { kind: 'chunked'; sizes: number[]; ext: string; trailers: [string, string][] } | { kind: 'close' };

interface Model {
  info: { status: number; fields: [string, string][] }[];
  status: number;
  fields: [string, string][];
  framing: Framing;
  body: Uint8Array;
  close: boolean;
}

const framing: fc.Arbitrary<Framing> = fc.oneof(
  fc.constant<Framing>({ kind: 'length' }),
  fc.record({
    kind: fc.constant('chunked' as const),
    sizes: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }),
    ext: fc.constantFrom('', ';a=b', ' ;name="v;x"', ';x'),
    trailers: fc.uniqueArray(fc.tuple(fieldName, fieldValue), { selector: ([n]) => n.toLowerCase(), maxLength: 3 }),
  }),
  fc.constant<Framing>({ kind: 'close' }),
);

const model: fc.Arbitrary<Model> = fc.record({
  info: fc.array(fc.record({ status: fc.constantFrom(100, 102, 103), fields }), { maxLength: 3 }),
  status: fc.constantFrom(200, 201, 206, 301, 400, 404, 500, 503),
  fields,
  framing,
  body: fc.uint8Array({ maxLength: 3000 }),
  close: fc.boolean(),
});

const lines = (f: [string, string][]) => f.map(([n, v]) => `${n}: ${v}\r\n`).join('');

/** The response `m` describes, as bytes. */
function encode(m: Model): Buffer {
  const parts: Buffer[] = m.info.map((i) => Buffer.from(`HTTP/1.1 ${i.status} Info\r\n${lines(i.fields)}\r\n`, 'latin1'));
  const f = m.framing;
  const framingField =
    f.kind === 'length' ? `Content-Length: ${m.body.length}\r\n` : f.kind === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : '';
  const connection = m.close ? 'Connection: close\r\n' : '';
  parts.push(Buffer.from(`HTTP/1.1 ${m.status} Some Reason\r\n${lines(m.fields)}${connection}${framingField}\r\n`, 'latin1'));
  const body = Buffer.from(m.body);
  if (f.kind !== 'chunked') parts.push(body);
  else {
    for (let at = 0, i = 0; at < body.length; i++) {
      const n = Math.min(f.sizes[i % f.sizes.length]!, body.length - at);
      parts.push(Buffer.from(`${n.toString(16)}${f.ext}\r\n`, 'latin1'), body.subarray(at, at + n), Buffer.from('\r\n'));
      at += n;
    }
    parts.push(Buffer.from(`0${f.ext}\r\n${lines(f.trailers)}\r\n`, 'latin1'));
  }
  return Buffer.concat(parts);
}

/** What a parser reported, in order; `extra`: the bytes feed() said lay past the response. */
interface Seen {
  info: { status: number; headers: HeaderRecord }[];
  head: { status: number; headers: HeaderRecord; statusText: string } | undefined;
  body: Buffer[];
  complete: boolean[];
  extra: number;
}

function recorder(): { seen: Seen; parser: ResponseParser } {
  const seen: Seen = { info: [], head: undefined, body: [], complete: [], extra: 0 };
  const parser = new ResponseParser(
    {
      informational: (status, headers) => seen.info.push({ status, headers }),
      head: (status, headers, statusText) => {
        expect(seen.head).toBeUndefined();
        seen.head = { status, headers, statusText };
      },
      // A copy: the chunk is valid only until the next read.
      body: (chunk) => seen.body.push(Buffer.from(chunk)),
      complete: (reusable) => seen.complete.push(reusable),
    },
    false,
  );
  return { seen, parser };
}

/** `data` cut at `cuts` (positions taken modulo its length). */
function split(data: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % data.length)))].filter((c) => c > 0).sort((a, b) => a - b);
  return [0, ...at].map((from, i) => data.subarray(from, at[i] ?? data.length));
}

/** Feeds `pieces` in order, each through one scratch buffer overwritten after the read when `reuse`; then the close. */
function run(pieces: Buffer[], close: boolean, reuse = false): Seen {
  const { seen, parser } = recorder();
  const scratch = Buffer.alloc(Math.max(1, ...pieces.map((p) => p.length)));
  for (const p of pieces) {
    if (reuse) {
      p.copy(scratch);
      seen.extra += parser.feed(scratch.subarray(0, p.length));
      scratch.fill(0x5a);
    } else seen.extra += parser.feed(Buffer.from(p));
  }
  if (close) parser.eof();
  return seen;
}

const summary = (s: Seen) => ({ ...s, body: Buffer.concat(s.body).toString('hex') });

/** What `m` must read as. */
function expected(m: Model) {
  const lower = (f: [string, string][]) => Object.fromEntries(f.map(([n, v]) => [n.toLowerCase(), v]));
  const framingField: HeaderRecord =
    m.framing.kind === 'length'
      ? { 'content-length': String(m.body.length) }
      : m.framing.kind === 'chunked'
        ? { 'transfer-encoding': 'chunked' }
        : {};
  return {
    info: m.info.map((i) => ({ status: i.status, headers: lower(i.fields) })),
    head: {
      status: m.status,
      statusText: 'Some Reason',
      headers: { ...lower(m.fields), ...(m.close ? { connection: 'close' } : {}), ...framingField },
    },
    body: Buffer.from(m.body).toString('hex'),
    complete: [m.framing.kind !== 'close' && !m.close],
    extra: 0,
  };
}

const cuts = fc.array(fc.nat(), { maxLength: 40 });

describe('the HTTP/1.1 response parser', () => {
  it('reads a valid response the same whole, in random reads, and through a reused read buffer', () => {
    fc.assert(
      fc.property(model, cuts, (m, c) => {
        const wire = encode(m);
        const close = m.framing.kind === 'close';
        const whole = summary(run([wire], close));
        expect(whole).toEqual(expected(m));
        expect(summary(run(split(wire, c), close))).toEqual(whole);
        expect(summary(run(split(wire, c), close, true))).toEqual(whole);
      }),
      { numRuns: 500, interruptAfterTimeLimit: 4000, seed: 20261205 },
    );
  });

  it('reports every byte past the framing as extra, none as body', () => {
    const framed = model.filter((m) => m.framing.kind !== 'close');
    fc.assert(
      fc.property(framed, fc.uint8Array({ minLength: 1, maxLength: 200 }), cuts, (m, tail, c) => {
        const wire = Buffer.concat([encode(m), Buffer.from(tail)]);
        const seen = summary(run(split(wire, c), false));
        expect(seen).toEqual({ ...expected(m), extra: tail.length });
      }),
      { numRuns: 500, interruptAfterTimeLimit: 3000, seed: 20261205 },
    );
  });

  it('throws only ResponseParseError on a mutated response, and reports no more body than it was given', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.constantFrom(...['\r\n', '\n', '\r', '\r\n\r\n', ' ', ':', ';', '0', 'f', '\x00'].map((s) => Buffer.from(s, 'latin1'))),
      }),
    );
    fc.assert(
      fc.property(model, fc.array(mutation, { minLength: 1, maxLength: 5 }), cuts, fc.boolean(), (m, mutations, c, bodiless) => {
        let wire = encode(m);
        for (const mu of mutations) {
          const at = mu.at % (wire.length + 1);
          if (mu.kind === 'set') wire = Buffer.concat([wire.subarray(0, at), Buffer.from([mu.byte]), wire.subarray(at + 1)]);
          else if (mu.kind === 'insert') wire = Buffer.concat([wire.subarray(0, at), Buffer.from(mu.bytes), wire.subarray(at)]);
          else wire = Buffer.concat([wire.subarray(0, at), wire.subarray(at + mu.length)]);
        }
        let body = 0;
        let extra = 0;
        const parser = new ResponseParser(
          { informational: () => {}, head: () => {}, body: (chunk) => void (body += chunk.length), complete: () => {} },
          bodiless,
        );
        try {
          for (const p of split(wire, c)) extra += parser.feed(p);
          parser.eof();
        } catch (err) {
          expect(err).toBeInstanceOf(ResponseParseError);
        }
        expect(body + extra).toBeLessThanOrEqual(wire.length);
      }),
      { numRuns: 500, interruptAfterTimeLimit: 4000, seed: 20261205 },
    );
  });
});

describe('a status line', () => {
  it.each(['HTTP/1.1 000 Zero', 'HTTP/1.1 042 Odd', 'HTTP/1.1 099 Odd'])('with a status below 100 (%s) is refused', (line) => {
    const { seen, parser } = recorder();
    expect(() => parser.feed(Buffer.from(`${line}\r\nContent-Length: 0\r\n\r\n`))).toThrow(ResponseParseError);
    expect(seen.info).toEqual([]);
  });

  it.each([
    ['HTTP/1.1 200', 200, ''],
    ['HTTP/1.0 204 ', 204, ''],
    ['HTTP/1.1 599 A reason, with\ttabs and Latin-1 \xe9', 599, 'A reason, with\ttabs and Latin-1 \xe9'],
  ])('%j is read as status %i, reason %j', (line, status, reason) => {
    const { seen, parser } = recorder();
    parser.feed(Buffer.from(`${line}\r\nContent-Length: 0\r\n\r\n`, 'latin1'));
    expect(seen.head?.status).toBe(status);
    expect(seen.head?.statusText).toBe(reason);
  });

  it.each([
    'HTTP/1.1 200X',
    'HTTP/1.2 200 OK',
    'HTTP/1.1  200 OK',
    'HTTP/1.1 20a OK',
    'HTTP/1.1 200\tOK',
    'HTTP/1.',
    'HTTP/1.1 200 OK\r',
    'HTTP/1.1 200 O\x00K',
    'http/1.1 200 OK',
  ])('%j is refused', (line) => {
    const { seen, parser } = recorder();
    expect(() => parser.feed(Buffer.from(`${line}\r\nContent-Length: 0\r\n\r\n`, 'latin1'))).toThrow(ResponseParseError);
    expect(seen.head).toBeUndefined();
  });
});

describe('a head or chunk line at its size limit', () => {
  /** Whether the parser takes `wire` when fed whole, and when cut at each of the 6 positions before `end`. */
  function verdicts(wire: Buffer, end = wire.length): boolean[] {
    const cuts = [wire.length, ...Array.from({ length: 6 }, (_, i) => end - 1 - i)];
    return cuts.map((cut) => {
      const { parser } = recorder();
      try {
        parser.feed(wire.subarray(0, cut));
        if (cut < wire.length) parser.feed(wire.subarray(cut));
        return parser.done;
      } catch (err) {
        expect(err).toBeInstanceOf(ResponseParseError);
        return false;
      }
    });
  }

  /** A response whose head (without its blank line) is `size` bytes. */
  const headOf = (size: number) => {
    const start = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ';
    return Buffer.from(`${start}${'a'.repeat(size - start.length)}\r\n\r\n`, 'latin1');
  };

  /** A chunked response whose first chunk-size line (without its CRLF) is `size` bytes. */
  const chunkLineOf = (size: number) =>
    Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(size - 2)}\r\nx\r\n0\r\n\r\n`, 'latin1');

  it('is taken however the reads cut its end: a head of 16 KiB', () => {
    expect(verdicts(headOf(16 * 1024))).toEqual(Array(7).fill(true));
  });

  it('is refused however the reads cut its end: a head of 16 KiB and 1 byte', () => {
    expect(verdicts(headOf(16 * 1024 + 1))).toEqual(Array(7).fill(false));
  });

  it('is taken however the reads cut its end: a chunk line of 4 KiB', () => {
    const wire = chunkLineOf(4 * 1024);
    expect(verdicts(wire, wire.indexOf('\r\nx\r\n') + 2)).toEqual(Array(7).fill(true));
  });

  it('is refused however the reads cut its end: a chunk line of 4 KiB and 1 byte', () => {
    const wire = chunkLineOf(4 * 1024 + 1);
    expect(verdicts(wire, wire.indexOf('\r\nx\r\n') + 2)).toEqual(Array(7).fill(false));
  });
});

import type { HeaderRecord } from '../hop.js';

/**
 * An upstream's HTTP/1.x response head (RFC 9112 §4–5), from the text before its blank line:
 * the status line and the fields, strictly. A control character, a CR or LF not in a CRLF pair,
 * a name that is no token (obs-fold and space before the colon among them) or a bad status line
 * is an error: leniency there lets one response be read two ways (splitting, smuggling).
 */

/** A response the parser refused; the round trip fails with 502 and the connection is closed. */
export class ResponseParseError extends Error {
  readonly code = 'FERRY_UPSTREAM_BAD_RESPONSE';
  constructor(message: string) {
    super(`upstream sent an invalid HTTP/1.1 response: ${message}`);
    this.name = 'ResponseParseError';
  }
}

export interface Head {
  version: number;
  status: number;
  statusText: string;
  headers: HeaderRecord;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A head's characters and line breaks in one anchored pass: lines of field bytes (HTAB, SP,
 * visible ASCII, obs-text; a Latin-1 string holds nothing past U+00FF) joined by CRLF. Linear:
 * neither class holds CR or LF, so each character is tried once.
 */
const LINES = /^[\t\x20-\x7e\x80-\xff]*(?:\r\n[\t\x20-\x7e\x80-\xff]*)*$/;
/** A control character other than HTAB, CR and LF: what LINES refused, when it was not a lone CR or LF. */
const CONTROL = /[^\t\r\n\x20-\x7e\x80-\xff]/;

function checkLines(text: string): void {
  if (LINES.test(text)) return;
  if (CONTROL.test(text)) throw new ResponseParseError('a control character in the head');
  throw new ResponseParseError('a CR or LF alone in the head');
}

/** Where the line from `at` ends: its CRLF, or the end of the head (checkLines ran: no CR or LF is alone). */
function lineEnd(text: string, at: number): number {
  const eol = text.indexOf('\r\n', at);
  return eol === -1 ? text.length : eol;
}

/** Field names seen before, as received → lower case: the token check and the lower-casing run once per name. */
const NAMES = new Map<string, string>();
const MAX_NAMES = 1024;

function fieldName(name: string): string {
  const known = NAMES.get(name);
  if (known !== undefined) return known;
  if (!TOKEN.test(name)) throw new ResponseParseError(`bad header name ${JSON.stringify(name.slice(0, 64))}`);
  const lower = name.toLowerCase();
  // Bounded: names come from the upstream, which may make up as many as it likes.
  if (NAMES.size < MAX_NAMES) NAMES.set(name, lower);
  return lower;
}

/**
 * The last heads' field names by line, as received and lower case. An upstream answers with the
 * same fields in the same order time after time: a line that starts with the name its position
 * held last time, then a colon, has that name, and neither slice nor lookup is needed. Any other
 * line takes the checked path (fieldName) and becomes its position's name. Bounded by MAX_LINES.
 */
const lastRaw: string[] = [];
const lastLower: string[] = [];
const MAX_LINES = 64;
const COLON = 58;

/** The end of the name on the field line from `at` to `eol` (the colon), its lower-case form in `out`. */
function nameAt(text: string, at: number, eol: number, line: number, out: { key: string }): number {
  const seen = line < MAX_LINES ? lastRaw[line] : undefined;
  if (seen !== undefined && text.charCodeAt(at + seen.length) === COLON && text.startsWith(seen, at)) {
    out.key = lastLower[line]!;
    return at + seen.length;
  }
  const colon = text.indexOf(':', at);
  // No colon or an empty name; obs-fold (a leading space) and space before the colon fail the token check.
  if (colon <= at || colon > eol) throw new ResponseParseError(`bad header line ${JSON.stringify(text.slice(at, Math.min(eol, at + 64)))}`);
  const raw = text.slice(at, colon);
  out.key = fieldName(raw);
  if (line < MAX_LINES) {
    lastRaw[line] = raw;
    lastLower[line] = out.key;
  }
  return colon;
}

/** The field value in `text` from `from` to `to`, without the optional whitespace (SP, HTAB) around it. */
function trimOws(line: string, from: number, to: number): string {
  let start = from;
  let end = to;
  while (start < end && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
  return line.slice(start, end);
}

const DIGIT_0 = 48;
const DIGIT_1 = 49;
const DIGIT_9 = 57;
const SPACE = 32;
const isDigit = (c: number) => c >= DIGIT_0 && c <= DIGIT_9;

/**
 * The status line `HTTP/1.x NNN[ reason]` (RFC 9112 §4): the version's minor digit and the status,
 * or undefined. A status from 100 to 999: none below 100 is defined, and a 0xx head was taken for a
 * 1xx one. Its characters were checked with the rest of the head (checkLines).
 */
function statusLine(line: string): { minor: number; status: number; reason: string } | undefined {
  if (!line.startsWith('HTTP/1.') || line.length < 12) return undefined;
  const minor = line.charCodeAt(7) - DIGIT_0;
  const s0 = line.charCodeAt(9);
  const s1 = line.charCodeAt(10);
  const s2 = line.charCodeAt(11);
  if ((minor !== 0 && minor !== 1) || line.charCodeAt(8) !== SPACE) return undefined;
  if (s0 < DIGIT_1 || s0 > DIGIT_9 || !isDigit(s1) || !isDigit(s2)) return undefined;
  if (line.length > 12 && line.charCodeAt(12) !== SPACE) return undefined;
  return { minor, status: (s0 - DIGIT_0) * 100 + (s1 - DIGIT_0) * 10 + (s2 - DIGIT_0), reason: line.slice(13) };
}

/** The names of the head being read, by line, up to SCANNED of them (parseHead runs to its end at once). */
const lineNames: string[] = [];
const SCANNED = 32;

/**
 * Whether field `key` of line `line` came before in this head. The first SCANNED lines compare
 * names (a megamorphic keyed load costs more than a few string compares); later ones ask the
 * record, so a head of thousands of fields stays linear. Never an inherited property.
 */
function repeated(headers: HeaderRecord, key: string, line: number): boolean {
  if (line >= SCANNED) return Object.hasOwn(headers, key);
  lineNames[line] = key;
  for (let i = 0; i < line; i++) if (lineNames[i] === key) return true;
  return false;
}

/**
 * The last head that parsed with each field once and none a list (no Set-Cookie), and what it
 * gave. An upstream answers one kind of request with the same head, Date aside, for a second at a
 * time; the same text parses the same, so it is not parsed again: one string compare (a different
 * length fails at once). The head is frozen and every caller gets the same one: callers read a
 * head and never change it (the proxy's response passes its fields on and writes Via beside
 * them, respond.ts), and a change would throw rather than reach the next answer. A copy for each
 * caller cost ~1,200 instructions a request (Object.assign) on the proxy's small answers. Heads
 * longer than REMEMBERED are not kept.
 */
let lastText: string | undefined;
let lastHead: Head | undefined;
const REMEMBERED = 2048;

function hasList(headers: HeaderRecord): boolean {
  for (const k in headers) if (Array.isArray(headers[k])) return true;
  return false;
}

/**
 * Splits a head (without its final CRLFCRLF) into status and fields; throws ResponseParseError.
 * A head without lists is frozen (see lastHead): read it, never change it.
 */
export function parseHead(text: string): Head {
  if (text === lastText) return lastHead!;
  const head = parseFresh(text);
  if (text.length > REMEMBERED || hasList(head.headers)) return head;
  Object.freeze(head.headers);
  lastText = text;
  lastHead = Object.freeze(head);
  return head;
}

function parseFresh(text: string): Head {
  checkLines(text);
  let eol = lineEnd(text, 0);
  const status = statusLine(text.slice(0, eol));
  if (status === undefined) throw new ResponseParseError(`bad status line ${JSON.stringify(text.slice(0, Math.min(eol, 64)))}`);
  const headers: HeaderRecord = {};
  const name = { key: '' };
  for (let at = eol + 2, line = 0; at < text.length; at = eol + 2, line++) {
    eol = lineEnd(text, at);
    const colon = nameAt(text, at, eol, line, name);
    const key = name.key;
    const value = trimOws(text, colon + 1, eol);
    if (!repeated(headers, key, line)) {
      headers[key] = key === 'set-cookie' ? [value] : value;
      continue;
    }
    const prior = headers[key]!;
    if (Array.isArray(prior)) prior.push(value);
    else headers[key] = [prior as string, value];
  }
  return { version: status.minor, status: status.status, statusText: status.reason, headers };
}

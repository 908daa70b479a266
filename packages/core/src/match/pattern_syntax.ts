/**
 * The pathname syntax of WHATWG URLPattern (https://urlpattern.spec.whatwg.org/): `/users/:id`,
 * `/files/*`, `:id(\d+)`, `{/:x}?`. The tokenizer, parser and regular-expression generation
 * follow the standard's algorithms (§1.2 tokenizing, §1.3 parsing, "generate a regular
 * expression and name list") for the pathname component (delimiter and prefix `/`, segment
 * wildcard `[^/]+?`), so a pattern means what it means to `URLPattern`.
 *
 * Why not run `URLPattern` itself: it matches with the backtracking `RegExp` engine, and the
 * regular expressions the standard generates backtrack polynomially on hostile paths: one
 * request for `/` + 1,000 `-` against `/:a-:b-:c-:d` kept Node's event loop busy for 20 s. The
 * expression is compiled here for RE2 instead (linear time in the path, as `path_regexp`),
 * while `URLPattern` (match/url_pattern.ts) still checks every pattern at config time.
 */

/** The literal text of a pattern in the form it is compared in (match/pattern_subject.ts). */
export type EncodeLiteral = (text: string) => string;

type TokenType = 'open' | 'close' | 'regexp' | 'name' | 'char' | 'escaped' | 'modifier' | 'asterisk' | 'end';

interface Token {
  type: TokenType;
  index: number;
  value: string;
}

/** A pattern the standard refuses, with where and why. */
export class PatternSyntaxError extends Error {}

const ID_START = /[$_\p{ID_Start}]/u;
// ZWNJ and ZWJ continue a name, as in JavaScript identifiers (the standard's "valid name code point").
const ID_PART = /[$_\p{ID_Continue}]|\u200C|\u200D/u;
const isAscii = (c: string): boolean => c.charCodeAt(0) < 0x80;

/** The regexp of a `(…)` group starting at `start` (its `(`): body and the index after its `)`. */
function regexpToken(p: string, start: number): { body: string; end: number } {
  let depth = 1;
  let i = start + 1;
  let body = '';
  if (p[i] === '?') throw new PatternSyntaxError(`a regexp group cannot start with "?" (at ${i})`);
  while (i < p.length) {
    const c = p[i]!;
    if (!isAscii(c)) throw new PatternSyntaxError(`a regexp group may only hold ASCII characters (at ${i})`);
    if (c === '\\') {
      if (i + 1 >= p.length || !isAscii(p[i + 1]!)) throw new PatternSyntaxError(`a "\\" must escape an ASCII character (at ${i})`);
      body += c + p[i + 1]!;
      i += 2;
      continue;
    }
    if (c === ')') {
      depth--;
      if (depth === 0) return { body: requireBody(body, start), end: i + 1 };
    } else if (c === '(') {
      depth++;
      if (p[i + 1] !== '?') throw new PatternSyntaxError(`capturing groups are not allowed inside a regexp group; write (?:…) (at ${i})`);
    }
    body += c;
    i++;
  }
  throw new PatternSyntaxError(`unbalanced regexp group (at ${start})`);
}

function requireBody(body: string, start: number): string {
  if (body === '') throw new PatternSyntaxError(`empty regexp group (at ${start})`);
  return body;
}

/** The standard's tokenizer, strict policy: anything it would mark invalid is an error. */
function tokenize(p: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < p.length) {
    const c = String.fromCodePoint(p.codePointAt(i)!);
    const at = i;
    if (c === '*') tokens.push({ type: 'asterisk', index: at, value: c });
    else if (c === '+' || c === '?') tokens.push({ type: 'modifier', index: at, value: c });
    else if (c === '{') tokens.push({ type: 'open', index: at, value: c });
    else if (c === '}') tokens.push({ type: 'close', index: at, value: c });
    else if (c === '\\') {
      if (i + 1 >= p.length) throw new PatternSyntaxError(`a pattern cannot end with "\\"`);
      const e = String.fromCodePoint(p.codePointAt(i + 1)!);
      tokens.push({ type: 'escaped', index: at, value: e });
      i += 1 + e.length;
      continue;
    } else if (c === ':') {
      let j = i + 1;
      let name = '';
      while (j < p.length) {
        const n = String.fromCodePoint(p.codePointAt(j)!);
        if (!(name === '' ? ID_START : ID_PART).test(n)) break;
        name += n;
        j += n.length;
      }
      if (name === '') throw new PatternSyntaxError(`":" must be followed by a parameter name (at ${i})`);
      tokens.push({ type: 'name', index: at, value: name });
      i = j;
      continue;
    } else if (c === '(') {
      const { body, end } = regexpToken(p, i);
      tokens.push({ type: 'regexp', index: at, value: body });
      i = end;
      continue;
    } else tokens.push({ type: 'char', index: at, value: c });
    i += c.length;
  }
  tokens.push({ type: 'end', index: i, value: '' });
  return tokens;
}

type Modifier = '' | '?' | '*' | '+';

/** A part of a parsed pattern: fixed text, or a group (named or numbered). */
export interface Part {
  kind: 'fixed' | 'segment' | 'full' | 'regexp';
  /** The group's name (a number for an unnamed regexp or wildcard); '' for fixed text. */
  name: string;
  prefix: string;
  /** Fixed text (encoded), or a regexp group's body. */
  value: string;
  suffix: string;
  modifier: Modifier;
}

const SEGMENT = '[^/]+?';

/** The standard's "parse a pattern string" for a pathname (prefix code point `/`). */
export function parsePattern(p: string, encode: EncodeLiteral): Part[] {
  const tokens = tokenize(p);
  const parts: Part[] = [];
  const names = new Set<string>();
  let next = 0;
  let i = 0;
  let pending = '';
  const take = (type: TokenType): string | undefined => (tokens[i]!.type === type ? tokens[i++]!.value : undefined);
  const must = (type: TokenType): void => {
    if (take(type) === undefined) {
      const t = tokens[i]!;
      const what = t.type === 'end' ? 'the end of the pattern' : `"${t.value}"`;
      throw new PatternSyntaxError(`unexpected ${what} (at ${t.index})${type === 'close' ? ', expected "}"' : ''}`);
    }
  };
  const text = (): string => {
    let s = '';
    for (let v = take('char') ?? take('escaped'); v !== undefined; v = take('char') ?? take('escaped')) s += v;
    return s;
  };
  const flush = (): void => {
    if (pending === '') return;
    parts.push({ kind: 'fixed', name: '', prefix: '', value: encode(pending), suffix: '', modifier: '' });
    pending = '';
  };
  const regexpOrWildcard = (name: string | undefined): string | undefined => {
    const re = take('regexp');
    return re === undefined && name === undefined && take('asterisk') !== undefined ? '*' : re;
  };
  const add = (prefix: string, name: string | undefined, re: string | undefined, suffix: string, modifier: Modifier): void => {
    if (name === undefined && re === undefined && modifier === '') {
      pending += prefix;
      return;
    }
    flush();
    if (name === undefined && re === undefined) {
      if (prefix !== '') parts.push({ kind: 'fixed', name: '', prefix: '', value: encode(prefix), suffix: '', modifier });
      return;
    }
    const body = re === undefined ? SEGMENT : re === '*' ? '.*' : re;
    const kind = body === SEGMENT ? 'segment' : body === '.*' ? 'full' : 'regexp';
    const key = name ?? String(next++);
    if (names.has(key)) throw new PatternSyntaxError(`the parameter name "${key}" is used twice`);
    names.add(key);
    parts.push({ kind, name: key, prefix: encode(prefix), value: kind === 'regexp' ? body : '', suffix: encode(suffix), modifier });
  };
  const modifier = (): Modifier => (take('modifier') ?? take('asterisk') ?? '') as Modifier;
  while (i < tokens.length) {
    const char = take('char');
    const name = take('name');
    const re = regexpOrWildcard(name);
    if (name !== undefined || re !== undefined) {
      let prefix = char ?? '';
      if (prefix !== '' && prefix !== '/') {
        pending += prefix;
        prefix = '';
      }
      flush();
      add(prefix, name, re, '', modifier());
      continue;
    }
    const fixed = char ?? take('escaped');
    if (fixed !== undefined) {
      pending += fixed;
      continue;
    }
    if (take('open') !== undefined) {
      const prefix = text();
      const n = take('name');
      const r = regexpOrWildcard(n);
      const suffix = text();
      must('close');
      add(prefix, n, r, suffix, modifier());
      continue;
    }
    flush();
    must('end');
  }
  return parts;
}

/** Escapes text for RE2 (the standard's "escape a regexp string"). */
function escapeRegexp(s: string): string {
  return s.replace(/[.+*?^${}()[\]|\\]/g, '\\$&');
}

/** The standard's "generate a regular expression and name list", anchored, for RE2. */
export function regexpOf(parts: readonly Part[]): { source: string; names: string[]; bareOptional: boolean[] } {
  let source = '^';
  const names: string[] = [];
  const bareOptional: boolean[] = [];
  for (const part of parts) {
    if (part.kind === 'fixed') {
      source += part.modifier === '' ? escapeRegexp(part.value) : `(?:${escapeRegexp(part.value)})${part.modifier}`;
      continue;
    }
    names.push(part.name);
    const value = part.kind === 'segment' ? SEGMENT : part.kind === 'full' ? '.*' : part.value;
    const m = part.modifier;
    const prefix = escapeRegexp(part.prefix);
    const suffix = escapeRegexp(part.suffix);
    bareOptional.push(prefix === '' && suffix === '' && m === '?');
    if (prefix === '' && suffix === '') source += m === '' || m === '?' ? `(${value})${m}` : `((?:${value})${m})`;
    else if (m === '' || m === '?') source += `(?:${prefix}(${value})${suffix})${m}`;
    else source += `(?:${prefix}((?:${value})(?:${suffix}${prefix}(?:${value}))*)${suffix})${m === '*' ? '?' : ''}`;
  }
  return { source: `${source}$`, names, bareOptional };
}

/**
 * The text every subject the pattern matches starts with, lowercased: the leading fixed text
 * (ASCII, in the canonical encoding, as the subject is). The route index (route_index.ts)
 * narrows pattern routes with it.
 */
export function literalPrefix(parts: readonly Part[]): string {
  const first = parts[0];
  return first !== undefined && first.kind === 'fixed' && first.modifier === '' ? first.value.toLowerCase() : '';
}

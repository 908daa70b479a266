import { RE2JS } from 're2js';
import { ConfigError } from './errors.js';

/**
 * Regular expressions from config (`path_regexp`, `header_regexp`, `search_regexp`,
 * `expect_body`, …), matched in time linear in the subject, as Caddy's are: a request cannot
 * stall the event loop with a path or header crafted against the pattern (catastrophic
 * backtracking, issue #13 item 6). Syntax is RE2's, Go's `regexp`: `(?P<name>…)` and
 * `(?<name>…)` groups, `(?i)` and the other inline flags; no lookaround, no backreferences.
 *
 * The engine is `re2js`, a pure-JavaScript port of RE2 (via RE2J, at parity with Go's package):
 * no native build, so it installs wherever Node does.
 */

/** The Go-style API of the compiled program (`RE2JS.re2()`); only the calls used here, typed. */
interface Program {
  /** Go's FindStringSubmatchIndex: `[start, end]` of the match, then of each group (-1 when it took no part); null on no match. */
  findSubmatchIndex(s: string): number[] | null;
}

/** One match: where it is and what each group captured. */
export interface RegexpMatch {
  /** Offset of the match in the subject (UTF-16 units, as `String.prototype.slice` counts). */
  readonly index: number;
  /** The whole match, then each group's text in order; `''` for a group that took no part (Go's FindStringSubmatch). */
  readonly captures: readonly string[];
  /** The named groups' text, by name; `''` for one that took no part. */
  readonly groups: Readonly<Record<string, string>>;
}

/** A compiled config regular expression. Stateless: one instance serves every request. */
export class ConfigRegexp {
  /** Named groups and their numbers, in pattern order. */
  readonly groupNames: ReadonlyMap<string, number>;
  /** How many capture groups the pattern has (not counting the whole match). */
  readonly groupCount: number;
  readonly #re: RE2JS;
  readonly #prog: Program;

  private constructor(
    readonly source: string,
    re: RE2JS,
  ) {
    this.#re = re;
    this.#prog = re.re2() as unknown as Program;
    this.groupCount = re.groupCount();
    this.groupNames = new Map(Object.entries(re.namedGroups()).sort((a, b) => a[1] - b[1]));
  }

  /**
   * Compiles a config regular expression (once, at provision time). A pattern that does not
   * compile throws `invalid regular expression "…": <reason>`: a ConfigError at `path` when
   * one is given, else an Error, which the provisioner reports at the module being provisioned.
   */
  static compile(pattern: string, path?: string): ConfigRegexp {
    let re: RE2JS;
    try {
      re = RE2JS.compile(pattern);
    } catch (err) {
      const reason = (err as Error).message.replace(/^error parsing regexp: /, '');
      const message = `invalid regular expression ${JSON.stringify(pattern)}: ${reason}${syntaxHint(pattern, reason)}`;
      if (path !== undefined) throw new ConfigError([{ path, message }]);
      throw new Error(message);
    }
    return new ConfigRegexp(pattern, re);
  }

  /** Whether the pattern matches anywhere in `s` (unanchored, as Go's MatchString). */
  test(s: string): boolean {
    return this.#re.test(s);
  }

  /** The leftmost match in `s` with its captures (Go's FindStringSubmatch), or null. */
  exec(s: string): RegexpMatch | null {
    // A long subject is first run through the lazy DFA, which only says yes or no, several
    // times faster than the capture-tracking engines: most long subjects are misses.
    if (s.length > 128 && !this.#re.test(s)) return null;
    const at = this.#prog.findSubmatchIndex(s);
    if (at === null) return null;
    const captures = spans(s, at, this.groupCount);
    // No prototype: group names come from config, and `(?P<__proto__>…)` is a valid one.
    const groups = Object.create(null) as Record<string, string>;
    for (const [name, i] of this.groupNames) groups[name] = captures[i]!;
    return { index: at[0]!, captures, groups };
  }

  /**
   * Every match in `s` replaced by `template` with its `$` references expanded, as Go's
   * ReplaceAllString (what Caddy's header `replace` with `search_regexp` does): `$1` or `${1}`
   * is a group by number, `$name` or `${name}` by name, `$$` is a `$`. A reference takes the
   * longest run of letters, digits and `_` after the `$`, so `$1x` names a group `1x` (nothing):
   * write `${1}x`. A group that does not exist or took no part expands to nothing; a `$` that
   * starts no reference stays as written. An empty match right after a match is not replaced.
   */
  replaceAll(s: string, template: string): string {
    const m = this.#re.matcher(s);
    const refs = parseTemplate(template);
    let out = '';
    let lastEnd = 0;
    let pos = 0;
    while (pos <= s.length && m.find(pos)) {
      const start = m.start();
      const end = m.end();
      out += s.slice(lastEnd, start);
      if (end > lastEnd || start === 0) {
        for (const part of refs) {
          if (typeof part === 'string') out += part;
          else {
            const n = typeof part.ref === 'number' ? part.ref : this.groupNames.get(part.ref);
            if (n !== undefined && n <= this.groupCount) out += m.group(n) ?? '';
          }
        }
      }
      lastEnd = end;
      // Go advances past the match, and at least one character (a whole surrogate pair).
      const width = pos < s.length ? codePointWidth(s, pos) : 1;
      pos = Math.max(pos + width, end);
    }
    return out + s.slice(lastEnd);
  }

  toString(): string {
    return this.source;
  }
}

function spans(s: string, at: readonly number[], groups: number): string[] {
  const out = new Array<string>(groups + 1);
  for (let i = 0; i <= groups; i++) {
    const a = at[2 * i] ?? -1;
    out[i] = a >= 0 ? s.slice(a, at[2 * i + 1]) : '';
  }
  return out;
}

function codePointWidth(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

type TemplatePart = string | { ref: number | string };

// Go's regexp.Expand: a name is letters, digits and `_` (Unicode letters and decimal digits).
const nameChar = /[\p{L}\p{Nd}_]/u;

/** A replacement template split into literal text and group references, per Go's Expand. */
function parseTemplate(t: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let lit = '';
  let i = 0;
  while (i < t.length) {
    const dollar = t.indexOf('$', i);
    if (dollar < 0) break;
    lit += t.slice(i, dollar);
    i = dollar + 1;
    if (t[i] === '$') {
      lit += '$';
      i++;
      continue;
    }
    const brace = t[i] === '{';
    let j = brace ? i + 1 : i;
    const nameStart = j;
    while (j < t.length) {
      const w = codePointWidth(t, j);
      if (!nameChar.test(t.slice(j, j + w))) break;
      j += w;
    }
    const name = t.slice(nameStart, j);
    if (name === '' || (brace && t[j] !== '}')) {
      lit += '$'; // malformed: the `$` is text, and what follows it is read as text too
      continue;
    }
    if (brace) j++;
    if (lit) parts.push(lit);
    lit = '';
    parts.push({ ref: groupNumber(name) ?? name });
    i = j;
  }
  lit += t.slice(i);
  if (lit) parts.push(lit);
  return parts;
}

/** A reference that is a number (no leading zero, below 1e8, as Go) is a group number. */
function groupNumber(name: string): number | undefined {
  if (!/^[0-9]+$/.test(name) || name.length > 8 || (name.length > 1 && name[0] === '0')) return undefined;
  return Number(name);
}

/** What to add to RE2's reason for refusing `pattern`: the foreign syntax it has, or how to write a group name. */
function syntaxHint(pattern: string, reason: string): string {
  const foreign = foreignSyntax(pattern);
  if (foreign) return `; Ferry uses RE2 syntax for regular expressions, as Caddy does, and RE2 has no ${foreign}`;
  if (reason.startsWith('invalid named capture')) {
    return '; a group name is letters, digits and _ only, as in (?P<user_id>…) or (?<user_id>…)';
  }
  return '';
}

/**
 * Syntax of other regexp dialects that RE2 lacks — JavaScript's `RegExp`, and Python's and PCRE's
 * `(?P=…)`/`(?P>…)` — to say why a pattern written for them does not compile. (Go's and Python's
 * `(?P<name>…)` groups are RE2 syntax and compile.)
 */
function foreignSyntax(pattern: string): string | undefined {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (n >= '1' && n <= '9') return 'backreferences (\\1)';
      if (n === 'k' && pattern[i + 2] === '<') return 'named backreferences (\\k<name>)';
      if (n === 'u') return '\\u escapes (write \\x{263A})';
      if (n === 'c') return '\\c control escapes';
      i++;
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2, i + 4);
      if (rest.startsWith('=') || rest.startsWith('!')) return 'lookahead ((?=…), (?!…))';
      if (rest === '<=' || rest === '<!') return 'lookbehind ((?<=…), (?<!…))';
      if (rest.startsWith('>')) return 'atomic groups ((?>…))';
      if (rest === 'P=') return 'named backreferences ((?P=name))';
      if (rest === 'P>') return 'recursion ((?P>name))';
    }
    if ((c === '+' || c === '*' || c === '?' || c === '}') && pattern[i + 1] === '+') return 'possessive quantifiers (a++)';
  }
  return undefined;
}

/** {@link ConfigRegexp.compile}: compiles a config regular expression, or throws a clear config error. */
export function compileRegexp(pattern: string, path?: string): ConfigRegexp {
  return ConfigRegexp.compile(pattern, path);
}

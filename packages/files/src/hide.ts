import { isAbsolute, resolve, sep } from 'node:path';
import { compileRegexp, type ConfigRegexp, type FerryRequest, type Template } from '@ferry/core';

/**
 * `hide`: files and folders the file server pretends do not exist (Caddy's fileHidden). An entry
 * without a path separator hides every file or folder of that name, a glob matched against each
 * component of the path (`.git`, `*.bak`); an entry with one is a file-system path (relative to
 * the working directory, as in Caddy, not to the root) that hides itself and everything under it,
 * or a glob matched against the whole absolute path. Comparisons are case-sensitive.
 */

/** Go's filepath.Match syntax as a regular expression: `*`, `?` and `[…]` stop at a separator. */
export function globSource(glob: string): string {
  const notSep = sep === '/' ? '[^/]' : '[^\\\\]';
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += `${notSep}*`;
    else if (c === '?') re += notSep;
    else if (c === '\\' && sep === '/' && i + 1 < glob.length) re += escapeChar(glob[++i]!);
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('^') || body.startsWith('!');
      if (negated) body = body.slice(1);
      re += `[${negated ? '^' : ''}${body.replace(/[\]\\^]/g, '\\$&')}]`;
      i = end;
    } else re += escapeChar(c);
  }
  return `^${re}$`;
}

function escapeChar(c: string): string {
  return c.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
}

/** One compiled `hide` entry. */
interface Rule {
  readonly name: boolean;
  readonly text: string;
  readonly glob: ConfigRegexp | undefined;
}

function ruleOf(entry: string): Rule {
  const name = !entry.includes('/') && !entry.includes(sep);
  const text = name || isAbsolute(entry) ? entry : resolve(entry);
  const glob = /[*?[]/.test(text) ? compileRegexp(globSource(text)) : undefined;
  return { name, text, glob };
}

function hiddenBy(rule: Rule, file: string, components: () => string[]): boolean {
  if (rule.name) {
    for (const c of components()) if (rule.glob ? rule.glob.test(c) : c === rule.text) return true;
    return false;
  }
  if (file.startsWith(rule.text) && (file.length === rule.text.length || file[rule.text.length] === sep)) return true;
  return rule.glob?.test(file) === true;
}

/** The compiled `hide` list: `hidden(file, req)` for an absolute file path. */
export class HideList {
  readonly #fixed: Rule[] = [];
  readonly #templates: Template[] = [];

  /** `paths`: absolute file paths hidden as written, never read as globs (the config file). */
  constructor(entries: readonly Template[], paths: readonly string[] = []) {
    for (const text of paths) this.#fixed.push({ name: false, text, glob: undefined });
    for (const t of entries) {
      // A static template renders without a request.
      if (t.isStatic) this.#fixed.push(ruleOf(t.render(undefined as never)));
      else this.#templates.push(t);
    }
  }

  /** True when nothing is hidden: the common case skips every check. */
  get empty(): boolean {
    return this.#fixed.length === 0 && this.#templates.length === 0;
  }

  hidden(file: string, req: FerryRequest): boolean {
    if (this.empty) return false;
    let parts: string[] | undefined;
    const components = () => (parts ??= file.split(sep));
    for (const rule of this.#fixed) if (hiddenBy(rule, file, components)) return true;
    for (const t of this.#templates) {
      const text = t.render(req);
      if (text !== '' && hiddenBy(ruleOf(text), file, components)) return true;
    }
    return false;
  }
}

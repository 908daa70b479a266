import { CADDY_HANDLERS, CADDY_MATCHERS, caddyObject } from './caddy_names.js';
import type { Registry } from './module.js';
import { didYouMean } from './suggest.js';

/**
 * What a config error says about a name Ferry does not know — an option, a handler, a matcher,
 * a route field. Three cases, told apart because they call for different fixes:
 * - a real Caddy option or module that Ferry does not implement: said so, with where to read
 *   what Ferry supports (remove it, or find another way);
 * - a near miss of a known name: a typo, with the name it probably meant;
 * - anything else: unknown, with the names that are known there.
 */

const SEE = 'see docs/coming-from-caddy.md';

/** Known names listed in a message when none is close; past this many the list is cut. */
const LISTED = 12;

function listOf(names: readonly string[]): string {
  const shown = names.slice(0, LISTED).join(', ');
  return names.length > LISTED ? `${shown}, …` : shown;
}

/** Where an unknown option was found: a module's options, or the config's own objects. */
export interface OptionPlace {
  /** A module ID, or `config` / `server` for the config's own objects (caddy_names.ts). */
  readonly scope: string;
  /** The object's location inside the scope, as schema_keys.ts writes it. */
  readonly location: string;
  /** The module's ID when the options are a module's: messages say whose option it is not. */
  readonly owner?: string | undefined;
  /** The option names the object accepts; undefined when they could not be read from its schema. */
  readonly known: readonly string[] | undefined;
}

/** The message for an option `key` that the object at `place` does not accept. */
export function unknownOptionMessage(key: string, place: OptionPlace): string {
  const { known } = place;
  const head = `unknown option${place.owner ? ` for ${place.owner}` : ''}`;
  // Without the known names (a schema Ferry cannot read), nothing more can be said truthfully.
  if (known === undefined) return head;
  const caddy = caddyObject(place.scope, place.location);
  if (caddy?.keys.includes(key) && !known.includes(key)) {
    return `Caddy's ${caddy.what} "${caddy.sub}${key}" is not supported by Ferry: remove it (${SEE})`;
  }
  const hint = didYouMean(key, known);
  if (hint) return `${head}; ${hint}`;
  if (known.length === 0) return `${head} (this object takes no options)`;
  return `${head}; the options here are: ${listOf(known)}`;
}

type Kind = 'handler' | 'matcher';

const NAMESPACE: Record<Kind, string> = { handler: 'http.handlers.', matcher: 'http.matchers.' };

/** The names registered in a namespace: `static_response`, … for `http.handlers.`. */
function namesIn(registry: Registry, namespace: string): string[] {
  return registry
    .ids()
    .filter((id) => id.startsWith(namespace) && !id.slice(namespace.length).includes('.'))
    .map((id) => id.slice(namespace.length));
}

/** The message for a handler or matcher `name` that no registered module has. */
export function unknownModuleMessage(kind: Kind, name: string, registry: Registry): string {
  const other: Kind = kind === 'handler' ? 'matcher' : 'handler';
  const id = `${NAMESPACE[kind]}${name}`;
  if (registry.has(`${NAMESPACE[other]}${name}`)) {
    return kind === 'handler'
      ? `"${name}" is a matcher, not a handler: put it in the route's "match" list (as {"${name}": …})`
      : `"${name}" is a handler, not a matcher: put it in the route's "handle" list (as {"handler": "${name}", …})`;
  }
  if ((kind === 'handler' ? CADDY_HANDLERS : CADDY_MATCHERS).includes(name)) {
    return `Caddy's ${kind} "${name}" is not supported by Ferry (no module ${id} is registered; ${SEE})`;
  }
  const head = `unknown ${kind} "${name}" (no module ${id} is registered)`;
  const known = namesIn(registry, NAMESPACE[kind]);
  const hint = didYouMean(name, known);
  if (hint) return `${head}; ${hint}`;
  return `${head}; the registered ${kind}s are: ${listOf(known)}`;
}

const ROUTE_FIELDS = ['match', 'handle', 'terminal', 'group'];

/** The message for a field a route does not have (Caddy's routes have the same four). */
export function unknownRouteFieldMessage(key: string): string {
  const hint = didYouMean(key, ROUTE_FIELDS);
  return `unknown route field (a route has ${ROUTE_FIELDS.join(', ')})${hint ? `; ${hint}` : ''}`;
}

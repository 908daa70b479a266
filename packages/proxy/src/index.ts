export { reverseProxy, reverseProxyModule } from './proxy.js';
export type { ReverseProxyConfig } from './schema.js';
export { Upstream } from './upstream.js';
export { createSelector, hashPick, clientIp, type Selector, type SelectionConfig } from './selection.js';
export { endToEnd } from './hop.js';

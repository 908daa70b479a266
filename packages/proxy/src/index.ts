export { reverseProxy, reverseProxyModule, type ReverseProxyConfig } from './proxy.js';
export { Upstream } from './upstream.js';
export { createSelector, hashPick, clientIp, type Selector, type SelectionConfig } from './selection.js';
export { endToEnd } from './hop.js';

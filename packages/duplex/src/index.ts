export { duplex, type DuplexContext, type DuplexOptions } from './duplex.js';
export { switchProtocols, canSwitchProtocols, TakeoverUnavailableError } from './takeover.js';
export { duplexEcho, duplexEchoModule } from './modules.js';

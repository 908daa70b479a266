export { main } from './main.js';
export { standardModules, distributionRegistry } from './modules.js';
export { loadPlugin, loadPlugins, PluginError } from './plugins.js';
export { defaultConfig } from './default-config.js';
export { configJsonSchema, configReference, jsonSchemaOf } from './schema.js';
export { websocketEcho, websocketEchoModule } from './demo/websocket_echo.js';
export { ferryStatus, statusModule } from './demo/status.js';

export { main } from './main.js';
export { standardModules, distributionRegistry } from './modules.js';
export { loadPlugin, loadPlugins, PluginError } from './plugins.js';
export { defaultConfig } from './default-config.js';

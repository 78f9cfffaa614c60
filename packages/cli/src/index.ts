export { loadConfig, ConfigError, type ServeConfig } from './config.js';
export { serve } from './serve.js';
export { SETTINGS, helpText, envName, configKey, type Setting } from './settings.js';

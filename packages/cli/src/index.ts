export { loadConfig, ConfigError, type ServeConfig } from './config.js';
export { VERSION, serve } from './serve.js';
export { SETTINGS, helpText, envName, configKey, type Setting } from './settings.js';
export { bannerText, startupReport, warnings, type Endpoint, type Listening, type StartupReport, type Warning } from './banner.js';

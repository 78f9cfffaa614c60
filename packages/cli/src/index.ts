export { loadConfig, ConfigError, type ServeConfig } from './config.js';
export { serve } from './serve.js';
export { VERSION } from './version.js';
export { SETTINGS, helpText, envName, configKey, type Setting } from './settings.js';
export { bannerText, startupReport, warnings, type Endpoint, type Listening, type StartupReport, type Warning } from './banner.js';

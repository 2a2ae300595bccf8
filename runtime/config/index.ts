export { AvsConfig, ConfigError, DEFAULT_LWA_URL, defaultConfigPath, defaultDatabasePath, describeConfig, loadConfig, type ConfigFlags, type ConfigInputs } from './config';

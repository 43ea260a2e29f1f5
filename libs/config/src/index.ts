export { CONFIG_KEYS, configSchema } from './config.schema';
export type { HeraldConfigValues } from './config.schema';
export { ConfigModule } from './config.module';
export type { ConfigModuleOptions } from './config.module';
export {
  ConfigValidationError,
  HeraldConfig,
  MIN_JWT_SECRET_BYTES,
  parsePublicKeyPem,
} from './herald.config';
export type { Environment } from './herald.config';
export { parseHistoryPolicies } from './history-policies';
export type { HistoryPolicyEntry } from './history-policies';
export { TRUST_PROXY_RANGES, parseTrustProxy } from './trust-proxy';
export type { TrustProxySetting } from './trust-proxy';
export { cliEnvironment } from './cli.environment';
export type { CliEnvironment } from './cli.environment';

export type { HeraldConfigValues } from './config.schema';
export { ConfigModule } from './config.module';
export type { ConfigModuleOptions } from './config.module';
export { ConfigValidationError, HeraldConfig, parsePublicKeyPem } from './herald.config';
export type { Environment } from './herald.config';
export { parseTrustProxy } from './trust-proxy';
export type { TrustProxySetting } from './trust-proxy';
export { cliEnvironment } from './cli.environment';
export type { CliEnvironment } from './cli.environment';

import { DynamicModule, Module } from '@nestjs/common';
import { HeraldConfig, type Environment } from './herald.config';

/** Options of {@link ConfigModule.forRoot}. */
export interface ConfigModuleOptions {
  /** Variables to validate; defaults to `process.env`. */
  readonly env?: Environment;
  /** An already validated config (takes precedence over `env`). */
  readonly config?: HeraldConfig;
}

/** Global module that validates the environment once and provides {@link HeraldConfig}. */
@Module({})
export class ConfigModule {
  static forRoot(options: ConfigModuleOptions = {}): DynamicModule {
    const config =
      options.config ??
      (options.env ? HeraldConfig.from(options.env) : HeraldConfig.fromProcessEnv());
    return {
      module: ConfigModule,
      global: true,
      providers: [{ provide: HeraldConfig, useValue: config }],
      exports: [HeraldConfig],
    };
  }
}

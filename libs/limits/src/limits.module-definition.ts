import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LimitsModuleOptions } from './limits.options';

export const {
  ConfigurableModuleClass: LimitsConfigurableModule,
  MODULE_OPTIONS_TOKEN: LIMITS_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<LimitsModuleOptions>().setClassMethodName('forRoot').build();

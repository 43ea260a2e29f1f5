import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MercureModuleOptions } from './mercure.options';

export const {
  ConfigurableModuleClass: MercureConfigurableModule,
  MODULE_OPTIONS_TOKEN: MERCURE_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<MercureModuleOptions>().setClassMethodName('forRoot').build();

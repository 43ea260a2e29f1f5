import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { StreamsModuleOptions } from './streams.options';

export const {
  ConfigurableModuleClass: StreamsConfigurableModule,
  MODULE_OPTIONS_TOKEN: STREAMS_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<StreamsModuleOptions>().setClassMethodName('forRoot').build();

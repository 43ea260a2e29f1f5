import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PublishModuleOptions } from './publish.options';

export const {
  ConfigurableModuleClass: PublishConfigurableModule,
  MODULE_OPTIONS_TOKEN: PUBLISH_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<PublishModuleOptions>().setClassMethodName('forRoot').build();

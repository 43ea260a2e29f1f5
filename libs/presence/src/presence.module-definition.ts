import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PresenceModuleOptions } from './presence.options';

export const {
  ConfigurableModuleClass: PresenceConfigurableModule,
  MODULE_OPTIONS_TOKEN: PRESENCE_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<PresenceModuleOptions>().setClassMethodName('forRoot').build();

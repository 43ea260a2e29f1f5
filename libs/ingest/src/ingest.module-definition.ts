import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { IngestModuleOptions } from './ingest.options';

export const {
  ConfigurableModuleClass: IngestConfigurableModule,
  MODULE_OPTIONS_TOKEN: INGEST_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<IngestModuleOptions>().setClassMethodName('forRoot').build();

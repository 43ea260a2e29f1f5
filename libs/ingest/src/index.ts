export { IngestModule } from './ingest.module';
export type { IngestModuleOptions } from './ingest.options';
export { INGEST_MAX_ATTEMPTS } from './ingest.consumer';

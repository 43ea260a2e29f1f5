export { IngestModule } from './ingest.module';
export { INGEST_MODULE_OPTIONS } from './ingest.module-definition';
export type { IngestModuleOptions } from './ingest.options';
export { DEFAULT_INGEST_DEAD_MAXLEN, INGEST_MAX_ATTEMPTS, IngestConsumer } from './ingest.consumer';
export type { IngestOutcome, IngestStats } from './ingest.consumer';

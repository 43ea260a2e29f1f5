import { Module } from '@nestjs/common';
import { IngestConsumer } from './ingest.consumer';
import { IngestConfigurableModule } from './ingest.module-definition';

/**
 * Consumes the Redis ingest stream (CONTRACT section 2) as one consumer group across instances:
 * `IngestModule.forRootAsync({ imports: [publishModule], inject, useFactory })`. Needs
 * `PublishService` from the imported `PublishModule` and the (global) `Broker`.
 */
@Module({ providers: [IngestConsumer], exports: [IngestConsumer] })
export class IngestModule extends IngestConfigurableModule {}

import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConnectionRegistry } from './connection.registry';
import { StreamsHealthIndicator } from './streams.health';
import { StreamsConfigurableModule } from './streams.module-definition';
import { StreamsService } from './streams.service';

/**
 * SSE streams over the {@link Broker}: `StreamsModule.forRootAsync({ useFactory, inject })`.
 * Needs `BrokerModule` registered globally.
 */
@Module({
  imports: [TerminusModule],
  providers: [ConnectionRegistry, StreamsService, StreamsHealthIndicator],
  exports: [ConnectionRegistry, StreamsService, StreamsHealthIndicator],
})
export class StreamsModule extends StreamsConfigurableModule {}

import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConnectionRegistry } from './connection.registry';
import { StreamInterceptor } from './stream.interceptor';
import { StreamPipeline } from './stream.pipeline';
import { StreamsClusterResponder } from './streams.cluster';
import { StreamsHealthIndicator } from './streams.health';
import { StreamsConfigurableModule } from './streams.module-definition';
import { StreamsService } from './streams.service';

/**
 * SSE streams over the {@link Broker}: `StreamsModule.forRootAsync({ imports, useFactory,
 * inject })`, where `imports` provide the pipeline's ports: {@link StreamAdmission}
 * (`@herald/limits`), {@link StreamAuthorization} (`@herald/auth`), {@link ClientAddress}, and
 * the `ClusterBus` (`@herald/cluster`) through which this instance's streams are listed, closed
 * and revoked cluster-wide. A {@link StreamsObserver} must be provided too (metrics, logs,
 * traces; global in the gateway). Needs `BrokerModule` registered globally.
 */
@Module({
  imports: [TerminusModule],
  providers: [
    ConnectionRegistry,
    StreamsService,
    StreamPipeline,
    StreamInterceptor,
    StreamsHealthIndicator,
    StreamsClusterResponder,
  ],
  exports: [
    ConnectionRegistry,
    StreamsService,
    StreamPipeline,
    StreamInterceptor,
    StreamsHealthIndicator,
  ],
})
export class StreamsModule extends StreamsConfigurableModule {}

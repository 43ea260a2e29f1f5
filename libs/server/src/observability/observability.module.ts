import { Global, Module } from '@nestjs/common';
import { Broker } from '@herald/broker';
import { HeraldConfig } from '@herald/config';
import { PublishObserver } from '@herald/publish';
import { StreamsObserver } from '@herald/streams';
import { HeraldMetrics, TelemetryModule } from '@herald/telemetry';
import { telemetryOptions } from '../herald.options';
import { MetricsController } from './metrics.controller';
import { PublishTelemetry } from './publish.telemetry';
import { StreamsTelemetry } from './streams.telemetry';

/**
 * Metrics, traces and connection logs for the whole app: binds the streams and publish
 * observation ports (global, so those libs' services see them) and serves `GET /metrics`.
 */
@Global()
@Module({
  imports: [
    TelemetryModule.forRootAsync({
      isGlobal: true,
      inject: [HeraldConfig],
      useFactory: telemetryOptions,
    }),
  ],
  controllers: [MetricsController],
  providers: [
    { provide: StreamsObserver, useClass: StreamsTelemetry },
    { provide: PublishObserver, useClass: PublishTelemetry },
  ],
  exports: [StreamsObserver, PublishObserver],
})
export class ObservabilityModule {
  constructor(metrics: HeraldMetrics, broker: Broker) {
    metrics.setBrokerProbe(() => pingWithin(broker, 1000));
  }
}

/** True when the broker answers a ping within `timeoutMs`. */
async function pingWithin(broker: Broker, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      broker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

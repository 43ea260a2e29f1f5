import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { EventLoopHealthIndicator } from './event-loop.health';
import { HeraldMetrics } from './herald.metrics';
import { HeraldTracing } from './herald.tracing';
import {
  TELEMETRY_MODULE_OPTIONS,
  TelemetryConfigurableModule,
} from './telemetry.module-definition';
import type { TelemetryModuleOptions } from './telemetry.options';

/**
 * Metrics ({@link HeraldMetrics}), tracing ({@link HeraldTracing}) and the event-loop readiness
 * indicator: `TelemetryModule.forRootAsync({ isGlobal: true, useFactory, inject })`.
 */
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: HeraldMetrics,
      useFactory: (o: TelemetryModuleOptions) =>
        new HeraldMetrics({
          defaultMetrics: o.defaultMetrics,
          defaultLabels: { instance_id: o.instanceId },
          maxConnections: o.maxConnections,
        }),
      inject: [TELEMETRY_MODULE_OPTIONS],
    },
    {
      provide: HeraldTracing,
      useFactory: (o: TelemetryModuleOptions) => new HeraldTracing(o.tracing),
      inject: [TELEMETRY_MODULE_OPTIONS],
    },
    EventLoopHealthIndicator,
  ],
  exports: [HeraldMetrics, HeraldTracing, EventLoopHealthIndicator],
})
export class TelemetryModule extends TelemetryConfigurableModule implements OnApplicationShutdown {
  constructor(private readonly tracing: HeraldTracing) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.tracing.shutdown();
  }
}

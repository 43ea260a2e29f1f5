import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '@herald/auth';
import { BrokerModule } from '@herald/broker';
import { ClusterModule } from '@herald/cluster';
import { ConfigModule, HeraldConfig } from '@herald/config';
import { IngestModule } from '@herald/ingest';
import { LimitsModule } from '@herald/limits';
import { PublishModule } from '@herald/publish';
import { StreamsModule } from '@herald/streams';
import { AdminController } from './admin/admin.controller';
import { AdminService } from './admin/admin.service';
import { OverviewService } from './admin/overview.service';
import {
  authOptions,
  brokerOptions,
  clusterOptions,
  ingestOptions,
  limitsOptions,
  publishOptions,
  streamsOptions,
} from './app.options';
import { ConsoleController } from './console/console.controller';
import { DemoController } from './demo/demo.controller';
import { HealthController } from './health/health.controller';
import { HeraldExceptionFilter } from './http/herald-exception.filter';
import { ShutdownService } from './lifecycle/shutdown.service';
import { LimitsTelemetry } from './telemetry/limits.telemetry';
import { ObservabilityModule } from './telemetry/observability.module';
import { JsonBodyPipe } from './publish/json-body.pipe';
import { PublishController } from './publish/publish.controller';
import { PublishRateLimiter } from './publish/publish-rate.limiter';
import { EventsController } from './streams/events.controller';
import { SubscriptionRequestPipe } from './streams/subscription-request.pipe';

/** The composition root: wires Herald's libs from one validated config. */
@Module({})
export class AppModule {
  static forRoot(config: HeraldConfig): DynamicModule {
    const publish = PublishModule.forRootAsync({
      inject: [HeraldConfig],
      useFactory: publishOptions,
    });
    // The Redis ingest stream (CONTRACT section 2) exists only with BROKER=redis.
    const ingest =
      config.BROKER === 'redis'
        ? [
            IngestModule.forRootAsync({
              imports: [publish],
              inject: [HeraldConfig],
              useFactory: ingestOptions,
            }),
          ]
        : [];
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ config }),
        ObservabilityModule,
        BrokerModule.forRootAsync({
          isGlobal: true,
          inject: [HeraldConfig],
          useFactory: brokerOptions,
        }),
        StreamsModule.forRootAsync({ inject: [HeraldConfig], useFactory: streamsOptions }),
        publish,
        ...ingest,
        LimitsModule.forRootAsync({ inject: [HeraldConfig], useFactory: limitsOptions }),
        TerminusModule,
        ClusterModule.forRootAsync({ inject: [HeraldConfig], useFactory: clusterOptions }),
        AuthModule.forRootAsync({
          inject: [HeraldConfig],
          useFactory: authOptions,
          devRoutes: config.isAuthDevMode,
        }),
      ],
      controllers: [
        EventsController,
        PublishController,
        HealthController,
        DemoController,
        ConsoleController,
        AdminController,
      ],
      providers: [
        { provide: APP_FILTER, useClass: HeraldExceptionFilter },
        SubscriptionRequestPipe,
        JsonBodyPipe,
        PublishRateLimiter,
        ShutdownService,
        AdminService,
        OverviewService,
        LimitsTelemetry,
      ],
    };
  }
}

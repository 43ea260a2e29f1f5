import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '@herald/auth';
import { BrokerModule } from '@herald/broker';
import { ClusterModule } from '@herald/cluster';
import { ConfigModule, HeraldConfig } from '@herald/config';
import { ClientAddressModule, HeraldExceptionFilter } from '@herald/http';
import { LimitsModule } from '@herald/limits';
import { PresenceModule } from '@herald/presence';
import { StreamsModule } from '@herald/streams';
import { HealthController } from './health/health.controller';
import {
  authOptions,
  brokerOptions,
  clusterOptions,
  limitsOptions,
  presenceOptions,
  streamsOptions,
} from './herald.options';
import { LimitsTelemetry } from './observability/limits.telemetry';
import { ObservabilityModule } from './observability/observability.module';
import { ShutdownService } from './shutdown.service';

/**
 * What any app serving Herald streams is made of, the gateway and a team's own app alike (so
 * both run on the same environment variables): config, observability (metrics, logs, traces,
 * `GET /metrics`), the broker, the stream pipeline with its ports (admission from limits,
 * authorization from auth, the client address under TRUST_PROXY, the cluster bus for the admin
 * list, close and revocation; presence of PRESENCE_TOPICS), `/health/live` and `/health/ready` (each lib's own indicator),
 * the exception filter ({@link HeraldExceptionFilter}), and drain on shutdown
 * ({@link ShutdownService}). Import it in a root module and add controllers (`@StreamRoute`
 * endpoints inherit it all); the streams, limits and cluster modules are re-exported.
 */
@Module({})
export class HeraldServerModule {
  /** @throws Error (from the auth options) when no JWT key is configured in production. */
  static forRoot(config: HeraldConfig): DynamicModule {
    const limits: DynamicModule = LimitsModule.forRootAsync({
      inject: [HeraldConfig],
      useFactory: limitsOptions,
    });
    const cluster: DynamicModule = ClusterModule.forRootAsync({
      inject: [HeraldConfig],
      useFactory: clusterOptions,
    });
    const auth: DynamicModule = AuthModule.forRootAsync({
      inject: [HeraldConfig],
      useFactory: authOptions,
    });
    const presence: DynamicModule = PresenceModule.forRootAsync({
      inject: [HeraldConfig],
      useFactory: presenceOptions,
    });
    const streams: DynamicModule = StreamsModule.forRootAsync({
      imports: [limits, auth, cluster, ClientAddressModule, presence],
      inject: [HeraldConfig],
      useFactory: streamsOptions,
    });
    return {
      module: HeraldServerModule,
      imports: [
        ConfigModule.forRoot({ config }),
        ObservabilityModule,
        BrokerModule.forRootAsync({
          isGlobal: true,
          inject: [HeraldConfig],
          useFactory: brokerOptions,
        }),
        streams,
        limits,
        TerminusModule,
        cluster,
        auth,
        presence,
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_FILTER, useClass: HeraldExceptionFilter },
        ShutdownService,
        LimitsTelemetry,
      ],
      exports: [streams, limits, cluster, auth, presence, ShutdownService],
    };
  }
}

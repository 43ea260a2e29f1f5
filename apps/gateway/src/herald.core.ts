import type { DynamicModule, ModuleMetadata } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '@herald/auth';
import { BrokerModule } from '@herald/broker';
import { ClusterModule } from '@herald/cluster';
import { ConfigModule, HeraldConfig } from '@herald/config';
import { LimitsModule } from '@herald/limits';
import { PresenceModule } from '@herald/presence';
import { StreamsModule } from '@herald/streams';
import {
  authOptions,
  brokerOptions,
  clusterOptions,
  limitsOptions,
  presenceOptions,
  streamsOptions,
} from './app.options';
import { HealthController } from './health/health.controller';
import { ClientAddressModule } from './http/client-address.module';
import { HeraldExceptionFilter } from './http/herald-exception.filter';
import { ShutdownService } from './lifecycle/shutdown.service';
import { LimitsTelemetry } from './telemetry/limits.telemetry';
import { ObservabilityModule } from './telemetry/observability.module';

/** The module metadata every Herald app shares, from one validated config. */
export type HeraldCore = Required<Pick<ModuleMetadata, 'imports' | 'controllers' | 'providers'>>;

/**
 * What any app serving Herald streams is made of, the gateway and a team's own app alike (so
 * both run on the same environment variables): config, observability (metrics, logs, traces),
 * the broker, the stream pipeline with its ports (admission from limits, authorization from
 * auth, the client address under TRUST_PROXY, the cluster bus for the admin list, close and
 * revocation, presence of PRESENCE_TOPICS), `/health/live` and `/health/ready`, the exception filter, and drain on shutdown.
 * Spread it into a root module and add controllers (`@StreamRoute` endpoints inherit it all).
 */
export function heraldCore(config: HeraldConfig): HeraldCore {
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
    devRoutes: config.isAuthDevMode,
  });
  const presence: DynamicModule = PresenceModule.forRootAsync({
    inject: [HeraldConfig],
    useFactory: presenceOptions,
  });
  return {
    imports: [
      ConfigModule.forRoot({ config }),
      ObservabilityModule,
      BrokerModule.forRootAsync({
        isGlobal: true,
        inject: [HeraldConfig],
        useFactory: brokerOptions,
      }),
      StreamsModule.forRootAsync({
        imports: [limits, auth, cluster, ClientAddressModule, presence],
        inject: [HeraldConfig],
        useFactory: streamsOptions,
      }),
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
  };
}

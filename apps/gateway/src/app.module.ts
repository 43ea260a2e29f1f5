import {
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { ClusterModule } from '@herald/cluster';
import { HeraldConfig } from '@herald/config';
import { IngestModule } from '@herald/ingest';
import { LimitsModule } from '@herald/limits';
import { MercureModule } from '@herald/mercure';
import { StreamsModule } from '@herald/streams';
import { PublishModule } from '@herald/publish';
import { HeraldServerModule, ingestOptions, mercureOptions, publishOptions } from '@herald/server';
import { AdminController } from './admin/admin.controller';
import { AdminService } from './admin/admin.service';
import { OverviewService } from './admin/overview.service';
import { DevTokenController } from './auth/dev-token.controller';
import { ConsoleController } from './console/console.controller';
import { DemoController } from './demo/demo.controller';
import { MercurePortsModule } from './mercure/mercure-ports.module';
import { JsonBodyPipe } from './publish/json-body.pipe';
import { PublishController } from './publish/publish.controller';
import { PresenceController } from './presence/presence.controller';
import { PublishRateLimiter } from './publish/publish-rate.limiter';
import { CorsMiddleware } from './http/cors.middleware';
import { EventsController } from './streams/events.controller';

/** The composition root: Herald's server ({@link HeraldServerModule}) plus the gateway's HTTP surface. */
@Module({})
export class AppModule implements NestModule {
  static forRoot(config: HeraldConfig): DynamicModule {
    const server = HeraldServerModule.forRoot(config);
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
    // The Mercure hub (CONTRACT section 8) exists only with MERCURE=on.
    const mercure = config.MERCURE === 'on' ? [mercureHub(server.exports ?? [])] : [];
    return {
      module: AppModule,
      imports: [server, publish, ...ingest, ...mercure],
      controllers: [
        EventsController,
        PublishController,
        DemoController,
        ConsoleController,
        AdminController,
        PresenceController,
        // GET /dev/token: development with an ephemeral key only (never in production).
        ...(config.isAuthDevMode ? [DevTokenController] : []),
      ],
      providers: [JsonBodyPipe, PublishRateLimiter, AdminService, OverviewService],
    };
  }

  /** CORS_ORIGINS on every route, before the guards (preflights answered there). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CorsMiddleware).forRoutes('{*path}');
  }
}

/** The Mercure module; its ports come from the limits, cluster and streams modules of the server. */
function mercureHub(imports: readonly unknown[]): DynamicModule {
  const find = (type: unknown): DynamicModule => {
    const found = imports.find((m) => (m as DynamicModule | undefined)?.module === type);
    if (found === undefined) throw new Error('Herald server lacks a module the Mercure hub needs');
    return found as DynamicModule;
  };
  return MercureModule.forRootAsync({
    imports: [
      MercurePortsModule.register(find(LimitsModule), find(ClusterModule), find(StreamsModule)),
    ],
    inject: [HeraldConfig],
    useFactory: mercureOptions,
  });
}

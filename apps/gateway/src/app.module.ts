import { Module, type DynamicModule } from '@nestjs/common';
import { ClusterModule } from '@herald/cluster';
import { HeraldConfig } from '@herald/config';
import { IngestModule } from '@herald/ingest';
import { LimitsModule } from '@herald/limits';
import { MercureModule } from '@herald/mercure';
import { StreamsModule } from '@herald/streams';
import { PublishModule } from '@herald/publish';
import { AdminController } from './admin/admin.controller';
import { AdminService } from './admin/admin.service';
import { OverviewService } from './admin/overview.service';
import { ingestOptions, mercureOptions, publishOptions } from './app.options';
import { ConsoleController } from './console/console.controller';
import { DemoController } from './demo/demo.controller';
import { heraldCore } from './herald.core';
import { MercurePortsModule } from './mercure/mercure-ports.module';
import { JsonBodyPipe } from './publish/json-body.pipe';
import { PublishController } from './publish/publish.controller';
import { PresenceController } from './presence/presence.controller';
import { PublishRateLimiter } from './publish/publish-rate.limiter';
import { EventsController } from './streams/events.controller';

/** The composition root: Herald's core ({@link heraldCore}) plus the gateway's HTTP surface. */
@Module({})
export class AppModule {
  static forRoot(config: HeraldConfig): DynamicModule {
    const core = heraldCore(config);
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
    const mercure = config.MERCURE === 'on' ? [mercureHub(core.imports)] : [];
    return {
      module: AppModule,
      imports: [...core.imports, publish, ...ingest, ...mercure],
      controllers: [
        EventsController,
        PublishController,
        ...core.controllers,
        DemoController,
        ConsoleController,
        AdminController,
        PresenceController,
      ],
      providers: [
        ...core.providers,
        JsonBodyPipe,
        PublishRateLimiter,
        AdminService,
        OverviewService,
      ],
    };
  }
}

/** The Mercure module; its ports come from the limits, cluster and streams modules of the core. */
function mercureHub(imports: readonly unknown[]): DynamicModule {
  const find = (type: unknown): DynamicModule => {
    const found = imports.find((m) => (m as DynamicModule | undefined)?.module === type);
    if (found === undefined) throw new Error('Herald core lacks a module the Mercure hub needs');
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

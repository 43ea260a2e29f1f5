import { Module, type DynamicModule } from '@nestjs/common';
import { HeraldConfig } from '@herald/config';
import { IngestModule } from '@herald/ingest';
import { PublishModule } from '@herald/publish';
import { AdminController } from './admin/admin.controller';
import { AdminService } from './admin/admin.service';
import { OverviewService } from './admin/overview.service';
import { ingestOptions, publishOptions } from './app.options';
import { ConsoleController } from './console/console.controller';
import { DemoController } from './demo/demo.controller';
import { heraldCore } from './herald.core';
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
    return {
      module: AppModule,
      imports: [...core.imports, publish, ...ingest],
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

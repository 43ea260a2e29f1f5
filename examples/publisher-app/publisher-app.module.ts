import { Module, type DynamicModule } from '@nestjs/common';
import { BrokerModule } from '@herald/broker';
import { PublishModule, PublishObserver, type PublishObservation } from '@herald/publish';
import { OrderEvents } from './order-events.service';

/** Where Herald's Redis lives; history settings must equal Herald's (they trim on publish). */
export interface PublisherAppOptions {
  readonly redisUrl: string;
  /** Herald's REDIS_KEY_PREFIX (default `herald:`). */
  readonly keyPrefix?: string;
  /** Herald's HISTORY_SIZE and HISTORY_TTL_S * 1000. */
  readonly historySize: number;
  readonly historyTtlMs: number;
  /** Herald's REDACT_KEYS and MAX_EVENT_BYTES. */
  readonly redactKeys: readonly string[];
  readonly maxEventBytes: number;
}

/** Another team's Nest app that publishes into Herald through Redis, without HTTP. */
@Module({})
export class PublisherAppModule {
  static forRoot(options: PublisherAppOptions): DynamicModule {
    return {
      module: PublisherAppModule,
      imports: [
        BrokerModule.forRootAsync({
          isGlobal: true,
          useFactory: () => ({
            driver: 'redis' as const,
            redis: { mode: 'single' as const, url: options.redisUrl },
            keyPrefix: options.keyPrefix,
            historySize: options.historySize,
            historyTtlMs: options.historyTtlMs,
          }),
        }),
        PublishModule.forRootAsync({
          imports: [UnobservedModule],
          useFactory: () => ({
            redactKeys: [...options.redactKeys],
            maxEventBytes: options.maxEventBytes,
          }),
        }),
      ],
      providers: [OrderEvents],
      exports: [OrderEvents],
    };
  }
}

/** This app exports no metrics or traces: its publishes are not observed. */
class UnobservedPublishes extends PublishObserver {
  begin(): PublishObservation | undefined {
    return undefined;
  }
}

/** Provides the publish observer port {@link PublishModule} requires. */
@Module({
  providers: [{ provide: PublishObserver, useClass: UnobservedPublishes }],
  exports: [PublishObserver],
})
class UnobservedModule {}

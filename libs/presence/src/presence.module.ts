import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { StreamPresence } from '@herald/streams';
import { createPresenceStore } from './presence.factory';
import { PRESENCE_MODULE_OPTIONS, PresenceConfigurableModule } from './presence.module-definition';
import type { PresenceModuleOptions } from './presence.options';
import { PresenceService } from './presence.service';
import { PresenceStore } from './presence.store';

/**
 * Presence (CONTRACT section 10): `PresenceModule.forRootAsync({ useFactory, inject })` with
 * `driver: 'memory'` (this process) or `'redis'` (every instance, with leases). Provides
 * {@link PresenceService} (the `GET /presence` pages) and the streams' {@link StreamPresence}
 * port: import it into `StreamsModule.forRootAsync({ imports })` and streams on tracked topics
 * join and leave.
 */
@Module({
  providers: [
    {
      provide: PresenceStore,
      useFactory: (options: PresenceModuleOptions) => createPresenceStore(options),
      inject: [PRESENCE_MODULE_OPTIONS],
    },
    PresenceService,
    { provide: StreamPresence, useExisting: PresenceService },
  ],
  exports: [PresenceService, StreamPresence],
})
export class PresenceModule extends PresenceConfigurableModule implements OnApplicationShutdown {
  constructor(
    @Inject(PresenceStore) private readonly store: PresenceStore,
    private readonly presence: PresenceService,
  ) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    // Streams closed during drain queued their leaves: store them before the store closes.
    this.presence.stop();
    await this.presence.flush();
    await this.store.close();
  }
}

import { Module } from '@nestjs/common';
import { PublishConfigurableModule } from './publish.module-definition';
import { PublishService } from './publish.service';

/** Validated publishing onto the {@link Broker}: `PublishModule.forRootAsync(...)`. */
@Module({ providers: [PublishService], exports: [PublishService] })
export class PublishModule extends PublishConfigurableModule {}

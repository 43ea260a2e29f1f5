import { Injectable, Logger } from '@nestjs/common';
import { StreamsService } from '@herald/streams';

/** Orders a graceful stop: fail readiness and shed new streams, drain open ones, then close. */
@Injectable()
export class ShutdownService {
  private readonly logger = new Logger(ShutdownService.name);

  constructor(private readonly streams: StreamsService) {}

  /** Drains every stream (spread over SHUTDOWN_GRACE_MS); resolves when all are closed. */
  async drain(signal: string): Promise<void> {
    this.logger.log(`${signal}: draining ${this.streams.registry.size} streams`);
    await this.streams.drain();
  }
}

import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { StreamsService } from './streams.service';

/** Health of the stream layer: down while draining, so the load balancer stops sending streams. */
@Injectable()
export class StreamsHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly streams: StreamsService,
  ) {}

  /** `up` with the open-stream count, `down` while draining. */
  check(key = 'streams'): HealthIndicatorResult {
    const indicator = this.health.check(key);
    const connections = this.streams.registry.size;
    return this.streams.draining
      ? indicator.down({ draining: true, connections })
      : indicator.up({ connections });
  }
}

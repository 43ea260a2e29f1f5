import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { BrokerHealthIndicator } from '@herald/broker';
import { StreamsHealthIndicator } from '@herald/streams';
import { Public } from '@herald/auth';

/** Probes (CONTRACT section 5). */
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly broker: BrokerHealthIndicator,
    private readonly streams: StreamsHealthIndicator,
  ) {}

  /** 200 while the process serves; checks no dependency. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 when the broker answers and the instance is not draining; 503 otherwise. */
  @Get(['ready', ''])
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([() => this.broker.check(), () => this.streams.check()]);
  }
}

import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { BrokerHealthIndicator } from '@herald/broker';
import { StreamsHealthIndicator } from '@herald/streams';
import { Public } from '@herald/auth';
import { EventLoopHealthIndicator } from '@herald/telemetry';

/** Probes (CONTRACT section 5). */
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly broker: BrokerHealthIndicator,
    private readonly streams: StreamsHealthIndicator,
    private readonly eventLoop: EventLoopHealthIndicator,
  ) {}

  /** 200 while the process serves; checks no dependency. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * 200 when the broker answers, the instance is not draining and the event loop keeps up
   * (p99 delay under the threshold); 503 otherwise.
   */
  @Get(['ready', ''])
  @HealthCheck()
  async ready(@Res({ passthrough: true }) res: ServerResponse): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => this.broker.check(),
        () => this.streams.check(),
        () => this.eventLoop.check(),
      ]);
    } catch (err) {
      // Keep terminus' body ({status, info, error, details}) on 503 for operators.
      if (!(err instanceof ServiceUnavailableException)) throw err;
      res.statusCode = 503;
      res.setHeader('Cache-Control', 'no-store');
      return err.getResponse() as HealthCheckResult;
    }
  }
}

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Req, Res } from '@nestjs/common';
import { Public } from '@herald/auth';
import { HeraldConfig } from '@herald/config';
import { HeraldMetrics } from '@herald/telemetry';

/**
 * `GET /metrics`: Prometheus text. Public to the JWT guards; it checks its own
 * `Authorization: Bearer METRICS_TOKEN` when that is set.
 */
@Public()
@Controller('metrics')
export class MetricsController {
  private readonly token: Buffer | undefined;

  constructor(
    private readonly metrics: HeraldMetrics,
    config: HeraldConfig,
  ) {
    this.token = config.METRICS_TOKEN === undefined ? undefined : Buffer.from(config.METRICS_TOKEN);
  }

  @Get()
  async scrape(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    if (!this.authorized(req.headers.authorization)) {
      res.writeHead(401, {
        'Content-Type': 'application/json; charset=utf-8',
        'WWW-Authenticate': 'Bearer realm="metrics"',
        'Cache-Control': 'no-store',
      });
      res.end(
        JSON.stringify({
          statusCode: 401,
          error: 'Unauthorized',
          message: 'metrics token required',
        }),
      );
      return;
    }
    const body = await this.metrics.scrape();
    res.writeHead(200, { 'Content-Type': this.metrics.contentType, 'Cache-Control': 'no-store' });
    res.end(body);
  }

  private authorized(header: string | undefined): boolean {
    if (this.token === undefined) return true;
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!match) return false;
    const given = Buffer.from(match[1]);
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }
}

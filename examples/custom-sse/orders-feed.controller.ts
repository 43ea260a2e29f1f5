import { Controller, Param, UseGuards } from '@nestjs/common';
import { SubscriberGuard } from '@herald/auth';
import { HeraldStream, StreamRoute, StreamsService } from '@herald/streams';

/**
 * A team's own SSE endpoint fed by Herald: `GET /orders/:id/feed` streams topic `orders/<id>`.
 * Declared with `@StreamRoute`, it goes through Herald's stream pipeline like `GET /events`:
 * auth (401/403), topic and cursor validation (400), connect rate and connection caps (shed),
 * resume from `Last-Event-ID`, heartbeats, token expiry, slow-consumer cut, drain, the
 * cluster-wide admin list, revocation and metrics.
 */
@Controller('orders')
export class OrdersFeedController {
  constructor(private readonly streams: StreamsService) {}

  @StreamRoute(':id/feed')
  @UseGuards(SubscriberGuard)
  feed(@Param('id') id: string): HeraldStream {
    return this.streams.events([`orders/${id}`]);
  }
}

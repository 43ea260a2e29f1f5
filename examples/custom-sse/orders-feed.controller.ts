import {
  BadRequestException,
  Controller,
  Headers,
  Param,
  Sse,
  type MessageEvent,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { StreamsService, SubscriptionRequestError } from '@herald/streams';

/** A team's own SSE endpoint fed by Herald: `GET /orders/:id/feed`. */
@Controller('orders')
export class OrdersFeedController {
  constructor(private readonly streams: StreamsService) {}

  // Auth: put `@UseGuards(...)` from `@herald/auth` here (see docs/extending.md).
  @Sse(':id/feed')
  feed(
    @Param('id') id: string,
    @Headers('last-event-id') lastEventId?: string,
  ): Observable<MessageEvent> {
    try {
      const request = this.streams.parseRequest({
        topics: [`orders/${id}`],
        headerCursor: lastEventId,
        queryCursor: undefined,
      });
      return this.streams.messageEvents(request);
    } catch (err) {
      if (err instanceof SubscriptionRequestError) throw new BadRequestException(err.message);
      throw err;
    }
  }
}

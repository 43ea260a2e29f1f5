import {
  BadRequestException,
  Controller,
  Headers,
  Param,
  Sse,
  UseGuards,
  type MessageEvent,
} from '@nestjs/common';
import { takeUntil, timer, type Observable } from 'rxjs';
import {
  CurrentPrincipal,
  SubscriberGuard,
  TopicPermissionPolicy,
  type Principal,
} from '@herald/auth';
import {
  StreamsService,
  SubscriptionRequestError,
  type SubscriptionRequest,
} from '@herald/streams';

/**
 * A team's own SSE endpoint fed by Herald: `GET /orders/:id/feed`. It inherits Herald's auth:
 * the same guard (token from header, cookie or `access_token`; 401), the same topic grants
 * (403), and the stream ends when the token expires.
 */
@Controller('orders')
export class OrdersFeedController {
  constructor(private readonly streams: StreamsService) {}

  @Sse(':id/feed')
  @UseGuards(SubscriberGuard)
  feed(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
    @Headers('last-event-id') lastEventId?: string,
  ): Observable<MessageEvent> {
    TopicPermissionPolicy.assertStreamable(principal);
    let request: SubscriptionRequest;
    try {
      request = this.streams.parseRequest({
        topics: [`orders/${id}`],
        headerCursor: lastEventId,
        queryCursor: undefined,
      });
    } catch (err) {
      if (err instanceof SubscriptionRequestError) throw new BadRequestException(err.message);
      throw err;
    }
    // Checked on every (re)connect with the token presented now, so a replay is authorized too.
    TopicPermissionPolicy.assertSubscribe(principal, request.filters);
    const events = this.streams.messageEvents(request);
    return principal.expiresAt === undefined
      ? events
      : events.pipe(takeUntil(timer(new Date(principal.expiresAt))));
  }
}

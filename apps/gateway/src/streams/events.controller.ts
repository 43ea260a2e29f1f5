import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Req, Res, UseGuards } from '@nestjs/common';
import {
  CurrentPrincipal,
  SubscriberGuard,
  TopicPermissionPolicy,
  type Principal,
} from '@herald/auth';
import { StreamsService, type SubscriptionRequest } from '@herald/streams';
import { requestContext } from '@herald/telemetry';
import { clientIp } from '../http/client-ip';
import { RawSubscriptionParams } from './raw-subscription.decorator';
import { releaseRoutingState } from './request-release';
import { SubscriptionRequestPipe } from './subscription-request.pipe';

/** `GET /events`: the SSE stream (CONTRACT section 1). */
@Controller('events')
export class EventsController {
  constructor(private readonly streams: StreamsService) {}

  /**
   * Guards and the pipe refuse bad requests with real 4xx before any stream byte is written:
   * 401 (token), 400 (topics, cursor), then 403 unless every topic is covered by a grant of the
   * CURRENT token (so a replay after reconnect is re-authorized too).
   */
  @Get()
  @UseGuards(SubscriberGuard)
  subscribe(
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
    @CurrentPrincipal() principal: Principal,
    @RawSubscriptionParams(SubscriptionRequestPipe) request: SubscriptionRequest,
  ): void {
    TopicPermissionPolicy.assertStreamable(principal);
    TopicPermissionPolicy.assertSubscribe(principal, request.filters);
    this.streams.open(req, res, request, {
      ip: clientIp(req),
      sub: principal.sub,
      expiresAt: principal.expiresAt,
      requestId: requestContext.getStore()?.requestId,
    });
    releaseRoutingState(req, res);
  }
}

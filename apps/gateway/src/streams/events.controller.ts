import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Req, Res } from '@nestjs/common';
import { StreamsService, type SubscriptionRequest } from '@herald/streams';
import { clientIp } from '../http/client-ip';
import { RawSubscriptionParams } from './raw-subscription.decorator';
import { releaseRoutingState } from './request-release';
import { SubscriptionRequestPipe } from './subscription-request.pipe';

/** `GET /events`: the SSE stream (CONTRACT section 1). */
@Controller('events')
export class EventsController {
  constructor(private readonly streams: StreamsService) {}

  /** Guards and the pipe refuse bad requests with real 4xx before any stream byte is written. */
  @Get()
  subscribe(
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
    @RawSubscriptionParams(SubscriptionRequestPipe) request: SubscriptionRequest,
  ): void {
    this.streams.open(req, res, request, { ip: clientIp(req) });
    releaseRoutingState(req, res);
  }
}

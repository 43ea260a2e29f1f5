import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Req, Res } from '@nestjs/common';
import { HeraldConfig } from '@herald/config';
import { StreamAdmission } from '@herald/limits';
import { StreamsService, type StreamClient, type SubscriptionRequest } from '@herald/streams';
import { clientIp, parseTrustProxy, type TrustProxy } from '../http/client-ip';
import { RawSubscriptionParams } from './raw-subscription.decorator';
import { SubscriptionRequestPipe } from './subscription-request.pipe';

/** `GET /events`: the SSE stream (CONTRACT section 1). */
@Controller('events')
export class EventsController {
  private readonly trust: TrustProxy;

  constructor(
    private readonly streams: StreamsService,
    private readonly admission: StreamAdmission,
    config: HeraldConfig,
  ) {
    this.trust = parseTrustProxy(config.TRUST_PROXY);
  }

  /**
   * Guards and the pipe refuse bad requests with real 4xx before any stream byte is written;
   * then the connect rate limit and the connection caps admit the stream or shed it
   * (SHED_MODE). The admitted stream's slot is released on every close path.
   */
  @Get()
  async subscribe(
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
    @RawSubscriptionParams(SubscriptionRequestPipe) request: SubscriptionRequest,
  ): Promise<void> {
    const client: StreamClient = { ip: clientIp(req, this.trust) };
    if (this.streams.draining) {
      this.streams.shed(req, res, 'draining', request.cursor);
      return;
    }
    const admission = await this.admission.admit(client);
    if (!admission.admitted) {
      this.streams.shed(req, res, admission.reason, request.cursor, admission.retryAfterMs);
      return;
    }
    const { lease } = admission;
    if (res.destroyed || req.socket.destroyed) {
      lease.release(); // the client left while it was being admitted
      return;
    }
    const connection = this.streams.open(req, res, request, client);
    if (connection === undefined) lease.release();
    else connection.onClose(() => lease.release());
  }
}

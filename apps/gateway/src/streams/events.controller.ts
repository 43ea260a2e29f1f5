import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Req, Res, UseGuards } from '@nestjs/common';
import {
  AuthError,
  AuthErrorCode,
  CurrentPrincipal,
  RevocationList,
  SubscriberGuard,
  TopicPermissionPolicy,
  type Principal,
} from '@herald/auth';
import { StreamAdmission } from '@herald/limits';
import {
  SSE_HEADERS,
  StreamsService,
  clientGone,
  type StreamClient,
  type SubscriptionRequest,
} from '@herald/streams';
import { requestContext } from '@herald/telemetry';
import { clientIp } from '../http/client-ip';
import { RawSubscriptionParams } from './raw-subscription.decorator';
import { releaseRoutingState } from './request-release';
import { SubscriptionRequestPipe } from './subscription-request.pipe';

/** `GET /events`: the SSE stream (CONTRACT section 1). */
@Controller('events')
export class EventsController {
  constructor(
    private readonly streams: StreamsService,
    private readonly admission: StreamAdmission,
    private readonly revocations: RevocationList,
  ) {}

  /**
   * Guards and the pipe refuse bad requests with real 4xx before any stream byte is written:
   * 401 (token), 400 (topics, cursor), then 403 unless every topic is covered by a grant of the
   * CURRENT token (so a replay after reconnect is re-authorized too). Then the connect rate
   * limit and the connection caps (per principal `sub`, else per client IP) admit the stream or
   * shed it (SHED_MODE). The admitted stream's slot is released on every close path.
   */
  @Get()
  @UseGuards(SubscriberGuard)
  async subscribe(
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
    @CurrentPrincipal() principal: Principal,
    @RawSubscriptionParams(SubscriptionRequestPipe) request: SubscriptionRequest,
  ): Promise<void> {
    // The guard awaited Redis (revocation): a client that left meanwhile costs nothing more.
    if (clientGone(req, res)) return;
    TopicPermissionPolicy.assertStreamable(principal);
    TopicPermissionPolicy.assertSubscribe(principal, request.filters);
    if (req.method === 'HEAD') {
      // Express routes HEAD here too: answer the stream's headers, open nothing.
      res.writeHead(200, SSE_HEADERS);
      res.end();
      return;
    }
    const client: StreamClient = {
      ip: clientIp(req),
      sub: principal.sub,
      expiresAt: principal.expiresAt,
      requestId: requestContext.getStore()?.requestId,
    };
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
    if (clientGone(req, res)) {
      lease.release(); // the client left while it was being admitted
      return;
    }
    // Admission awaited Redis: a revocation broadcast handled meanwhile found no stream to close,
    // and the token may have expired. Check both again before the stream exists.
    try {
      await this.assertStillValid(principal);
    } catch (err) {
      lease.release();
      throw err;
    }
    // open() returns undefined (and holds nothing) when the client left during that check.
    const connection = this.streams.open(req, res, request, client);
    if (connection === undefined) {
      lease.release();
      return;
    }
    connection.onClose(() => lease.release());
    releaseRoutingState(req, res);
  }

  private async assertStillValid(principal: Principal): Promise<void> {
    if (principal.expiresAt !== undefined && principal.expiresAt <= Date.now()) {
      throw new AuthError(AuthErrorCode.InvalidToken, 'token expired');
    }
    if (
      principal.sub !== undefined &&
      (await this.revocations.isRevoked(principal.sub, principal.issuedAt))
    ) {
      throw new AuthError(AuthErrorCode.Revoked, 'token revoked');
    }
  }
}

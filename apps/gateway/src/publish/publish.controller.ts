import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Headers, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import {
  CurrentPrincipal,
  PublisherGuard,
  TopicPermissionPolicy,
  type Principal,
} from '@herald/auth';
import type { IdempotencyScope } from '@herald/broker';
import { ipKey } from '@herald/limits';
import { PublishService } from '@herald/publish';
import { isTraceparent } from '@herald/telemetry';
import { clientIp } from '@herald/http';
import { JsonBodyPipe, RawRequest } from './json-body.pipe';
import { PublishRateGuard } from './publish-rate.guard';
import { PublishRateLimiter } from './publish-rate.limiter';

/** `POST /events` response: one id, or one per event of a batch. */
export type PublishResponse = { id: string } | { ids: readonly string[] };

/** `POST /events`: publish one event or a batch (CONTRACT section 2). */
@Controller('events')
export class PublishController {
  constructor(
    private readonly publisher: PublishService,
    private readonly rate: PublishRateLimiter,
  ) {}

  /**
   * `202` only once the broker holds the events; any error means nothing was published. The
   * guards authenticate (401), then refuse a publisher with an empty bucket (429), before the
   * body is read; topics are authorized (403) after it is validated, then one token per event
   * is taken, all or none (429).
   */
  @Post()
  @HttpCode(202)
  @UseGuards(PublisherGuard, PublishRateGuard)
  async publish(
    @CurrentPrincipal() principal: Principal,
    @RawRequest() req: IncomingMessage,
    @Res({ passthrough: true }) res: ServerResponse,
    @RawRequest(JsonBodyPipe) body: unknown,
    @Headers('idempotency-key') idempotencyKey?: string,
    @Headers('traceparent') traceparent?: string,
  ): Promise<PublishResponse> {
    const outcome = await this.publisher.publish(body, {
      idempotencyKey,
      scope: publisherScope(principal, req),
      authorize: (topics) => TopicPermissionPolicy.assertPublish(principal, topics),
      admit: (events) => this.rate.charge(req, res, events),
      traceparent: isTraceparent(traceparent) ? traceparent : undefined,
    });
    return outcome.batch ? { ids: outcome.ids } : { id: outcome.ids[0] };
  }
}

/**
 * The Idempotency-Key space of an HTTP publisher: its token `sub`, else (a token without `sub`)
 * its client IP, IPv6 by /64, as the publish rate limit counts it. Ingest entries and in-process
 * publishers have namespaces of their own, so no token can claim their keys.
 */
function publisherScope(principal: Principal, req: IncomingMessage): IdempotencyScope {
  const sub = principal.sub;
  return sub !== undefined && sub !== ''
    ? { namespace: 'sub', owner: sub }
    : { namespace: 'ip', owner: ipKey(clientIp(req)) };
}

import { Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  CurrentPrincipal,
  PublisherGuard,
  TopicPermissionPolicy,
  type Principal,
} from '@herald/auth';
import { PublishService } from '@herald/publish';
import { isTraceparent } from '@herald/telemetry';
import { JsonBodyPipe, RawRequest } from './json-body.pipe';

/** `POST /events` response: one id, or one per event of a batch. */
export type PublishResponse = { id: string } | { ids: readonly string[] };

/** `POST /events`: publish one event or a batch (CONTRACT section 2). */
@Controller('events')
export class PublishController {
  constructor(private readonly publisher: PublishService) {}

  /**
   * `202` only once the broker holds the events; any error means nothing was published. The
   * guard authenticates (401) before the body is read; topics are authorized (403) after it is
   * validated.
   */
  @Post()
  @HttpCode(202)
  @UseGuards(PublisherGuard)
  async publish(
    @CurrentPrincipal() principal: Principal,
    @RawRequest(JsonBodyPipe) body: unknown,
    @Headers('idempotency-key') idempotencyKey?: string,
    @Headers('traceparent') traceparent?: string,
  ): Promise<PublishResponse> {
    const outcome = await this.publisher.publish(body, {
      idempotencyKey,
      publisher: principal.sub,
      authorize: (topics) => TopicPermissionPolicy.assertPublish(principal, topics),
      traceparent: isTraceparent(traceparent) ? traceparent : undefined,
    });
    return outcome.batch ? { ids: outcome.ids } : { id: outcome.ids[0] };
  }
}

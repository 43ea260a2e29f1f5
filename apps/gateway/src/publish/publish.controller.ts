import { Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { PublishService } from '@herald/publish';
import { JsonBodyPipe, RawRequest } from './json-body.pipe';
import { PublishRateGuard } from './publish-rate.guard';

/** `POST /events` response: one id, or one per event of a batch. */
export type PublishResponse = { id: string } | { ids: readonly string[] };

/** `POST /events`: publish one event or a batch (CONTRACT section 2). */
@Controller('events')
export class PublishController {
  constructor(private readonly publisher: PublishService) {}

  /** `202` only once the broker holds the events; any error means nothing was published. */
  @Post()
  @UseGuards(PublishRateGuard)
  @HttpCode(202)
  async publish(
    @RawRequest(JsonBodyPipe) body: unknown,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<PublishResponse> {
    const outcome = await this.publisher.publish(body, { idempotencyKey });
    return outcome.batch ? { ids: outcome.ids } : { id: outcome.ids[0] };
  }
}

import { Injectable, type PipeTransform } from '@nestjs/common';
import { HeraldConfig } from '@herald/config';
import { Broker } from '@herald/broker';
import { parseSubscription, type RawSubscription, type SubscriptionRequest } from '@herald/streams';

/** Validates topics and cursor of `GET /events` before the stream opens (400 on failure). */
@Injectable()
export class SubscriptionRequestPipe implements PipeTransform<
  RawSubscription,
  SubscriptionRequest
> {
  constructor(
    private readonly broker: Broker,
    private readonly config: HeraldConfig,
  ) {}

  transform(raw: RawSubscription): SubscriptionRequest {
    return parseSubscription(raw, this.config.MAX_TOPICS_PER_CONNECTION, (cursor) =>
      this.broker.isWellFormedCursor(cursor),
    );
  }
}

import { Injectable } from '@nestjs/common';
import { PublishService } from '@herald/publish';

/** A team's own service publishing order events into Herald (same Redis format and rules). */
@Injectable()
export class OrderEvents {
  constructor(private readonly publisher: PublishService) {}

  /**
   * Publishes `order.updated` on `orders/<id>`; sensitive fields are redacted as in Herald.
   * @returns the event's cursor.
   * @throws PublishError (invalid) or BrokerError (`broker-unavailable`: nothing was published).
   */
  async updated(orderId: string, data: unknown, idempotencyKey?: string): Promise<string> {
    const outcome = await this.publisher.publish(
      { topic: `orders/${orderId}`, type: 'order.updated', data },
      { scope: { namespace: 'service', owner: 'orders-service' }, idempotencyKey },
    );
    return outcome.ids[0];
  }
}

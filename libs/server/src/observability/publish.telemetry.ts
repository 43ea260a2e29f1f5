import { Injectable } from '@nestjs/common';
import { BrokerError, type PublishResult } from '@herald/broker';
import {
  PublishError,
  PublishObserver,
  type PublishContext,
  type PublishObservation,
} from '@herald/publish';
import { HeraldMetrics, HeraldTracing, isTraceparent } from '@herald/telemetry';

/** Binds publish calls (HTTP and ingest) to counters and a `herald.publish` span. */
@Injectable()
export class PublishTelemetry extends PublishObserver {
  constructor(
    private readonly metrics: HeraldMetrics,
    private readonly tracing: HeraldTracing,
  ) {
    super();
  }

  begin(context: PublishContext): PublishObservation {
    const metrics = this.metrics;
    const parent = isTraceparent(context.traceparent) ? context.traceparent : undefined;
    const span = this.tracing.startPublish(parent, 0);
    return {
      traceparent: span?.traceparent ?? parent,
      succeeded(events: number, result: PublishResult) {
        if (result.duplicate) metrics.publishRequests.inc({ result: 'duplicate' });
        else {
          metrics.publishRequests.inc({ result: 'ok' });
          metrics.eventsPublished.inc(events);
        }
        span?.end(undefined, {
          'messaging.batch.message_count': events,
          'herald.duplicate': result.duplicate,
        });
      },
      failed(error: unknown) {
        if (error instanceof BrokerError) {
          metrics.publishRequests.inc({ result: 'broker-error' });
          metrics.brokerErrors.inc({ operation: 'publish' });
        } else if (error instanceof PublishError) {
          metrics.publishRequests.inc({ result: 'invalid' });
        } else metrics.publishRequests.inc({ result: 'error' });
        span?.end(error);
      },
    };
  }
}

import { Injectable, Logger } from '@nestjs/common';
import type { BrokerEvent } from '@herald/broker';
import {
  StreamsObserver,
  type CloseReason,
  type ReplayOutcome,
  type SseConnection,
  type ShedReason,
} from '@herald/streams';
import { HeraldMetrics, HeraldTracing } from '@herald/telemetry';

/**
 * Binds the streams layer's observations to metrics, traces and connection log lines.
 *
 * Delivery latency is observed once per distinct event per run of consecutive flushes: a
 * fan-out hands the same event object to every subscriber and the write scheduler flushes them
 * back to back in one tick, so the first flush records the event's latency (and its
 * `herald.deliver` span) and the others, written in the same tick, only add to the delivered
 * count. The cost per subscriber is one integer addition and one comparison, whatever the
 * fan-out; the histogram counts events as seen by this instance, not event x subscriber pairs.
 * Replayed events (published before the stream opened) are not latency samples: a resume after
 * an hour would otherwise read as an hour of delivery latency.
 */
@Injectable()
export class StreamsTelemetry extends StreamsObserver {
  private readonly logger = new Logger('Streams');
  private lastObserved: BrokerEvent | undefined;

  constructor(
    private readonly metrics: HeraldMetrics,
    private readonly tracing: HeraldTracing,
  ) {
    super();
  }

  override opened(connection: SseConnection): void {
    this.metrics.connectionsOpened.inc({ result: 'accepted' });
    this.metrics.connections.inc();
    this.logger.log({
      msg: 'stream opened',
      connId: connection.id,
      reqId: connection.meta.requestId,
      ip: connection.meta.ip,
      sub: connection.meta.sub,
      topics: connection.meta.topics,
    });
  }

  override closed(connection: SseConnection, reason: CloseReason): void {
    this.metrics.connections.dec();
    this.metrics.connectionsClosed.inc({ reason });
    if (reason === 'slow-consumer') this.metrics.slowConsumerDisconnects.inc();
    if (reason === 'broker') this.metrics.brokerErrors.inc({ operation: 'subscribe' });
    this.logger.log({
      msg: 'stream closed',
      connId: connection.id,
      reqId: connection.meta.requestId,
      reason,
      durationMs: Date.now() - connection.connectedAt,
      bytesSent: connection.bytesSent,
    });
  }

  override shed(reason: ShedReason): void {
    this.metrics.connectionsOpened.inc({ result: 'shed' });
    this.metrics.shed.inc({ reason });
  }

  override replayed(connection: SseConnection, outcome: ReplayOutcome, first?: BrokerEvent): void {
    this.metrics.replays.inc({ result: outcome });
    if (this.tracing.enabled) {
      this.tracing.recordReplay(connection.connectedAt, outcome, first?.traceparent);
    }
  }

  override flushed(
    connection: SseConnection,
    events: number,
    oldest: BrokerEvent,
    writtenAt: number,
  ): void {
    this.metrics.deliveredPending += events;
    if (oldest === this.lastObserved || oldest.publishedAt < connection.connectedAt) return;
    this.lastObserved = oldest;
    const latencyMs = Math.max(0, writtenAt - oldest.publishedAt);
    this.metrics.deliveryLatency.observe(latencyMs / 1000);
    if (this.tracing.enabled) this.tracing.recordDelivery(oldest.traceparent, events, latencyMs);
  }
}

import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { BrokerHealthIndicator } from '@herald/broker';
import { ClusterBus } from '@herald/cluster';
import { HeraldConfig } from '@herald/config';
import { StreamsHealthIndicator, StreamsService } from '@herald/streams';
import { DELIVERY_BUCKETS, EventLoopHealthIndicator, HeraldMetrics } from '@herald/telemetry';
import {
  MAX_INSTANCE_TOPICS,
  aggregateOverview,
  topTopics,
  type CheckStatus,
  type InstanceOverview,
  type Overview,
} from './overview.aggregate';

interface OverviewPayload {
  /** Topics each instance should report (it may report fewer). */
  readonly topics: number;
}

declare module '@herald/cluster' {
  interface ClusterQueries {
    /** One instance's figures for `GET /admin/overview`. */
    overview: { payload: OverviewPayload; answer: InstanceOverview };
  }
}

/** Sum of every series of a prom-client metric. */
async function total(metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await metric.get()).values.reduce((s, v) => s + v.value, 0);
}

/**
 * `GET /admin/overview`: every instance answers the `overview` cluster request with its own
 * figures, read from its metrics, registry and health indicators at the moment it is asked
 * (nothing is sampled in the background), and the asking instance merges them.
 */
@Injectable()
export class OverviewService implements OnModuleInit {
  private readonly startedAt = Date.now();

  constructor(
    private readonly bus: ClusterBus,
    private readonly streams: StreamsService,
    private readonly metrics: HeraldMetrics,
    private readonly brokerHealth: BrokerHealthIndicator,
    private readonly streamsHealth: StreamsHealthIndicator,
    private readonly eventLoop: EventLoopHealthIndicator,
    private readonly config: HeraldConfig,
  ) {}

  onModuleInit(): void {
    this.bus.answer('overview', (payload) => {
      // From another instance, over JSON: checked rather than trusted.
      const asked = (payload as Partial<OverviewPayload> | null)?.topics;
      const limit = typeof asked === 'number' && asked >= 0 ? asked : 0;
      return this.instance(Math.min(Math.max(limit, 1) * 5, MAX_INSTANCE_TOPICS));
    });
  }

  /** The cluster overview with at most `topics` top topics. */
  async overview(topics: number): Promise<Overview> {
    const [answers, live] = await Promise.all([
      this.bus.collect('overview', { topics }),
      this.bus.instances(),
    ]);
    return aggregateOverview(answers, {
      at: Date.now(),
      live,
      topics,
      latencyBuckets: DELIVERY_BUCKETS,
    });
  }

  /** This instance's figures, with up to `topicLimit` of its most subscribed topics. */
  async instance(topicLimit: number): Promise<InstanceOverview> {
    const [broker, published, delivered, slow, shed, latency] = await Promise.all([
      this.brokerHealth.check(),
      total(this.metrics.eventsPublished),
      total(this.metrics.eventsDelivered),
      total(this.metrics.slowConsumerDisconnects),
      this.metrics.shed.get(),
      this.metrics.deliveryLatency.get(),
    ]);
    const streams = this.streamsHealth.check();
    const eventLoop = this.eventLoop.check();
    const shedByReason: Record<string, number> = {};
    for (const v of shed.values) {
      const reason = String(v.labels.reason);
      shedByReason[reason] = (shedByReason[reason] ?? 0) + v.value;
    }
    const buckets: number[] = [];
    let count = 0;
    let sum = 0;
    for (const v of latency.values) {
      const name = (v as { metricName?: string }).metricName ?? '';
      if (name.endsWith('_bucket')) buckets.push(v.value);
      else if (name.endsWith('_count')) count = v.value;
      else if (name.endsWith('_sum')) sum = v.value;
    }
    const registry = this.streams.registry;
    const topics = topTopics(
      (function* () {
        for (const c of registry.values()) yield c.meta.topics;
      })(),
      topicLimit,
    );
    const eventLoopData = eventLoop.eventLoop as { p99DelayMs?: number } | undefined;
    return {
      instance: this.bus.instanceId,
      at: Date.now(),
      startedAt: this.startedAt,
      ready: [broker, streams, eventLoop].every(isUp),
      draining: this.streams.draining,
      broker: { driver: this.config.BROKER, ...checkStatus(broker, 'broker') },
      eventLoopDelayMs: eventLoopData?.p99DelayMs ?? 0,
      connections: registry.size,
      published,
      delivered,
      slowConsumerCuts: slow,
      shed: shedByReason,
      latency: { buckets, count, sum },
      topics,
    };
  }
}

function isUp(result: HealthIndicatorResult): boolean {
  return Object.values(result).every((r) => r.status === 'up');
}

function checkStatus(result: HealthIndicatorResult, key: string): CheckStatus {
  const entry = result[key] as { status: string; message?: unknown } | undefined;
  if (entry?.status === 'up') return { status: 'up' };
  return {
    status: 'down',
    ...(typeof entry?.message === 'string' ? { message: entry.message } : {}),
  };
}

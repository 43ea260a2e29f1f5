import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How a stream request ended up (`herald_connections_opened_total{result}`). */
export type OpenResult = 'accepted' | 'shed' | 'refused';

/** Outcome of a resume (`herald_replays_total{result}`): `ok` or the reset reason. */
export type ReplayResult = 'ok' | 'history-expired' | 'unknown-cursor';

/** Status class of an HTTP answer. */
export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx';

/** Routes HTTP metrics are grouped by: a fixed set, so paths never create series. */
export type RouteLabel = 'events' | 'publish' | 'health' | 'metrics' | 'admin' | 'demo' | 'other';

/** Latency buckets in seconds: sub-millisecond fan-out up to multi-second stalls. */
export const DELIVERY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.8, 1, 2.5, 5, 10,
];

/** Options of {@link HeraldMetrics}. */
export interface HeraldMetricsOptions {
  /** Adds prom-client's default process and Node metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Labels added to every series (keep them constant, e.g. `instance`). */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /** MAX_CONNECTIONS, exported as `herald_max_connections` for alerting. */
  readonly maxConnections?: number;
}

/**
 * Herald's Prometheus metrics on a private registry (CONTRACT section 5). No label ever takes a
 * topic, user, connection or other unbounded value, so the series count is fixed.
 *
 * Hot counters (`deliveredPending`) are plain numbers added to the prom-client counter at scrape
 * time, so delivery costs one integer addition per flush.
 */
export class HeraldMetrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly connectionsOpened: Counter<'result'>;
  readonly connectionsClosed: Counter<'reason'>;
  readonly eventsPublished: Counter;
  readonly publishRequests: Counter<'result'>;
  readonly eventsDelivered: Counter;
  readonly deliveryLatency: Histogram;
  readonly slowConsumerDisconnects: Counter;
  readonly replays: Counter<'result'>;
  readonly shed: Counter<'reason'>;
  readonly limitsFailOpen: Counter<'kind'>;
  readonly brokerErrors: Counter<'operation'>;
  readonly brokerUp: Gauge;
  readonly httpRequests: Counter<'method' | 'route' | 'code_class'>;
  readonly maxConnections: Gauge;
  readonly heapLimit: Gauge;
  /** Deliveries counted since the last scrape (added to `eventsDelivered` on collect). */
  deliveredPending = 0;
  private brokerProbe: (() => Promise<boolean>) | undefined;

  constructor(options: HeraldMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultLabels) this.registry.setDefaultLabels({ ...options.defaultLabels });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.connections = new Gauge({
      name: 'herald_connections',
      help: 'Open SSE streams on this instance.',
      registers,
    });
    this.connectionsOpened = new Counter({
      name: 'herald_connections_opened_total',
      help: 'Stream requests by result: accepted, shed (transient refusal) or refused (4xx).',
      labelNames: ['result'],
      registers,
    });
    this.connectionsClosed = new Counter({
      name: 'herald_connections_closed_total',
      help: 'Closed streams by reason (client, slow-consumer, drain, token-expired, ...).',
      labelNames: ['reason'],
      registers,
    });
    this.eventsPublished = new Counter({
      name: 'herald_events_published_total',
      help: 'Events accepted by the broker (duplicates by Idempotency-Key not counted).',
      registers,
    });
    this.publishRequests = new Counter({
      name: 'herald_publish_requests_total',
      help: 'Publish calls (HTTP or ingest) by result: ok, duplicate, invalid, broker-error.',
      labelNames: ['result'],
      registers,
    });
    this.eventsDelivered = new Counter({
      name: 'herald_events_delivered_total',
      help: 'Events written to subscriber sockets (one per event per subscriber).',
      registers,
      collect: () => {
        if (this.deliveredPending > 0) {
          this.eventsDelivered.inc(this.deliveredPending);
          this.deliveredPending = 0;
        }
      },
    });
    this.deliveryLatency = new Histogram({
      name: 'herald_delivery_latency_seconds',
      help: 'Publish accepted (broker time) to written to the socket, sampled per event per flush run.',
      buckets: DELIVERY_BUCKETS,
      registers,
    });
    this.slowConsumerDisconnects = new Counter({
      name: 'herald_slow_consumer_disconnects_total',
      help: 'Streams closed because unsent output passed MAX_BUFFERED_BYTES.',
      registers,
    });
    this.replays = new Counter({
      name: 'herald_replays_total',
      help: 'Resumes with a cursor by result: ok, history-expired, unknown-cursor.',
      labelNames: ['result'],
      registers,
    });
    this.shed = new Counter({
      name: 'herald_shed_total',
      help: 'Stream requests refused for now, by reason (rate-limited, capacity, draining, unavailable).',
      labelNames: ['reason'],
      registers,
    });
    this.limitsFailOpen = new Counter({
      name: 'herald_limits_fail_open_total',
      help: 'Limit checks allowed because the limits store (Redis) failed, by kind (rate, caps).',
      labelNames: ['kind'],
      registers,
    });
    this.brokerErrors = new Counter({
      name: 'herald_broker_errors_total',
      help: 'Broker failures by operation (publish, subscribe).',
      labelNames: ['operation'],
      registers,
    });
    this.brokerUp = new Gauge({
      name: 'herald_broker_up',
      help: '1 when the broker answered a ping at scrape time, else 0.',
      registers,
      collect: async () => {
        if (this.brokerProbe) this.brokerUp.set((await this.brokerProbe()) ? 1 : 0);
      },
    });
    this.httpRequests = new Counter({
      name: 'herald_http_requests_total',
      help: 'HTTP responses by method, route group and status class.',
      labelNames: ['method', 'route', 'code_class'],
      registers,
    });
    this.maxConnections = new Gauge({
      name: 'herald_max_connections',
      help: 'Configured MAX_CONNECTIONS.',
      registers,
    });
    if (options.maxConnections !== undefined) this.maxConnections.set(options.maxConnections);
    this.heapLimit = new Gauge({
      name: 'herald_heap_limit_bytes',
      help: 'V8 heap size limit (compare with nodejs_heap_size_used_bytes).',
      registers,
      collect: () => {
        this.heapLimit.set(getHeapStatistics().heap_size_limit);
      },
    });
  }

  /** Sets the probe behind `herald_broker_up` (called at scrape time). */
  setBrokerProbe(probe: () => Promise<boolean>): void {
    this.brokerProbe = probe;
  }

  /** Prometheus text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** Content-Type of {@link scrape}'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** `2xx`..`5xx` for an HTTP status. */
export function statusClass(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  return '2xx';
}

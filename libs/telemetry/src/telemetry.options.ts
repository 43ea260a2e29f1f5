import type { TracingOptions } from './herald.tracing';

/** Options of {@link TelemetryModule}. */
export interface TelemetryModuleOptions {
  /** This instance's id (INSTANCE_ID): the `instance` label and the trace resource. */
  readonly instanceId: string;
  /** MAX_CONNECTIONS, exported for the "near capacity" alert. */
  readonly maxConnections: number;
  /** prom-client default process/Node metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Tracing driver: `off` unless OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  readonly tracing: TracingOptions;
  /** Readiness fails while the event loop's p99 delay is above this (ms). */
  readonly eventLoopDelayThresholdMs: number;
  /** Window of the event-loop delay measurement (ms, default 5000). */
  readonly eventLoopWindowMs?: number;
}

export { TelemetryModule } from './telemetry.module';
export type { TelemetryModuleOptions } from './telemetry.options';
export { DELIVERY_BUCKETS, HeraldMetrics, statusClass } from './herald.metrics';
export type {
  HeraldMetricsOptions,
  OpenResult,
  ReplayResult,
  RouteLabel,
  StatusClass,
} from './herald.metrics';
export { HeraldTracing, isTraceparent } from './herald.tracing';
export type { PublishSpan, TracingOptions } from './herald.tracing';
export { HeraldLogger } from './herald.logger';
export type { HeraldLoggerOptions } from './herald.logger';
export { LogScrubber } from './log.redaction';
export { requestContext, requestIdFrom } from './request.context';
export type { RequestContext } from './request.context';
export { EventLoopHealthIndicator } from './event-loop.health';

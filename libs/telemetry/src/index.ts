export { TelemetryModule } from './telemetry.module';
export { TELEMETRY_MODULE_OPTIONS } from './telemetry.module-definition';
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
export { ALWAYS_REDACTED_KEYS, LOG_REDACTED, LogScrubber, REDACT_PATHS } from './log.redaction';
export { requestContext, requestIdFrom } from './request.context';
export type { RequestContext } from './request.context';
export { EventLoopHealthIndicator } from './event-loop.health';

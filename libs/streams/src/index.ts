export { StreamsModule } from './streams.module';
export { STREAMS_MODULE_OPTIONS } from './streams.module-definition';
export type { StreamsModuleOptions } from './streams.options';
export { StreamsService } from './streams.service';
export type { StreamClient } from './streams.service';
export { StreamsHealthIndicator } from './streams.health';
export { ConnectionRegistry } from './connection.registry';
export { SseConnection, SSE_HEADERS } from './sse.connection';
export type { CloseReason, ConnectionInfo, ConnectionMeta } from './sse.connection';
export { HEARTBEAT_FRAME, frameEvent, frameRetry, isValidEventId, jitter } from './sse.frame';
export { frameOf } from './frame.cache';
export { acceptsEventStream, respondShed } from './shed.responder';
export { clientGone } from './client.presence';
export type { ShedReason } from './shed.responder';
export {
  NO_CURSOR,
  SubscriptionErrorCode,
  SubscriptionRequestError,
  parseSubscription,
} from './subscription.request';
export type { RawSubscription, SubscriptionRequest } from './subscription.request';
export { WriteScheduler } from './write.scheduler';
export { NoopStreamsObserver, StreamsObserver } from './streams.observer';
export type { ReplayOutcome } from './streams.observer';
export { acceptsGzip } from './content-encoding';

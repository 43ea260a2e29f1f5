export { StreamsModule } from './streams.module';
export { STREAMS_MODULE_OPTIONS } from './streams.module-definition';
export type { StreamsModuleOptions } from './streams.options';
export { StreamsService } from './streams.service';
export { StreamPipeline } from './stream.pipeline';
export { StreamRoute, StreamTopics } from './stream.route';
export { HeraldStream } from './herald.stream';
export type { DialectOpening, HeraldEvent, StreamDialect, StreamSource } from './herald.stream';
export { withFrame } from './frame.cache';
export {
  ClientAddress,
  SocketClientAddress,
  StreamAdmission,
  StreamAuthorization,
  StreamPresence,
} from './stream.ports';
export type {
  PresenceHandle,
  PresenceMember,
  StreamAdmissionResult,
  StreamClient,
  StreamLease,
  StreamPrincipal,
} from './stream.ports';
export { StreamsHealthIndicator } from './streams.health';
export type { StreamsClusterQueries } from './streams.cluster';
export { ConnectionRegistry } from './connection.registry';
export type { SseConnection } from './sse.connection';
export type { CloseReason, ConnectionInfo, ConnectionMeta } from './sse.connection';
export { frameEvent, isValidEventId, jitter } from './sse.frame';
export type { ShedReason } from './shed.responder';
export {
  NO_CURSOR,
  SubscriptionErrorCode,
  SubscriptionRequestError,
  requestCursors,
} from './subscription.request';
export { StreamsObserver } from './streams.observer';
export type { ReplayOutcome } from './streams.observer';

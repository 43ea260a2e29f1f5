export { StreamsModule } from './streams.module';
export type { StreamsModuleOptions } from './streams.options';
export { StreamsService } from './streams.service';
export { StreamPipeline } from './stream.pipeline';
export { StreamRoute, StreamTopics } from './stream.route';
export { HeraldStream } from './herald.stream';
export type { HeraldEvent } from './herald.stream';
export {
  ClientAddress,
  SocketClientAddress,
  StreamAdmission,
  StreamAuthorization,
} from './stream.ports';
export type {
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
export { frameEvent, isValidEventId } from './sse.frame';
export { StreamShedError } from './shed.responder';
export type { ShedReason } from './shed.responder';
export {
  NO_CURSOR,
  SubscriptionErrorCode,
  SubscriptionRequestError,
  requestCursors,
} from './subscription.request';
export { StreamsObserver } from './streams.observer';
export type { ReplayOutcome } from './streams.observer';

export { HeraldClient } from './herald-client';
export type {
  EventSourceConstructor,
  EventSourceLike,
  HeraldClientOptions,
  HeraldEvent,
  HeraldState,
  HeraldStateDetail,
  MessageEventLike,
} from './herald-client';

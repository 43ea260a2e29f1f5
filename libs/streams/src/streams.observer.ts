import type { BrokerEvent, ResetReason } from '@herald/broker';
import type { ShedReason } from './shed.responder';
import type { CloseReason, SseConnection } from './sse.connection';

/** Outcome of a resume: `ok` when the cursor was honoured, else the reset reason. */
export type ReplayOutcome = 'ok' | ResetReason;

/**
 * Observation port of the streams layer (metrics, logs, traces), required: an app provides it
 * (`@herald/server`'s `ObservabilityModule` binds metrics, logs and traces); nothing replaces a
 * missing one. Every method does nothing unless overridden, so an implementation overrides what
 * it observes. Implementations must be
 * cheap: `flushed` runs once per connection flush, never per event per subscriber.
 */
export abstract class StreamsObserver {
  /** A stream was accepted and its headers sent. */
  opened(_connection: SseConnection): void {}

  /** A stream ended (once per connection). */
  closed(_connection: SseConnection, _reason: CloseReason): void {}

  /** A stream request was refused for now (every shed goes through `StreamsService.shed`). */
  shed(_reason: ShedReason): void {}

  /** A resume's outcome, once per stream opened with a cursor. */
  replayed(_connection: SseConnection, _outcome: ReplayOutcome, _first?: BrokerEvent): void {}

  /**
   * One socket write of `connection` carried `events` broker events; `oldest` is the first of
   * them (the same object for every subscriber of a fan-out), `writtenAt` the write time (epoch ms).
   */
  flushed(
    _connection: SseConnection,
    _events: number,
    _oldest: BrokerEvent,
    _writtenAt: number,
  ): void {}
}

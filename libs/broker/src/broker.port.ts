import type { Observable } from 'rxjs';
import type { TopicFilter } from '@herald/topics';
import { BrokerError, BrokerErrorCode } from './broker.errors';
import type {
  BrokerMessage,
  BrokerStats,
  LatestEvents,
  TopicHistoryInfo,
  PublishOptions,
  PublishRequest,
  PublishResult,
} from './broker.types';

/** Receives a subscription's messages without an rxjs Subscriber chain ({@link Broker.attach}). */
export interface BrokerSink {
  next(message: BrokerMessage): void;
  error(err: unknown): void;
  complete(): void;
  /**
   * Flow control of a replay: when present, an adapter hands replayed events only while it
   * answers true, reads history in pages as it goes, and waits for
   * {@link BrokerAttachment.resume} once it answers false. Live events are not paced (the sink
   * applies its own slow-consumer policy to them).
   */
  hasRoom?(): boolean;
}

/** Stops a sink attachment; frees what it holds, like unsubscribing. */
export interface BrokerAttachment {
  unsubscribe(): void;
  /** Continues a replay paused by {@link BrokerSink.hasRoom}; a no-op otherwise. */
  resume?(): void;
}

/** Options of {@link Broker.subscribe}. */
export interface SubscribeOptions {
  /** Resume after this cursor: replay retained events, then live, with no gap or duplicate. */
  readonly cursor?: string;
}

/**
 * The broker port: stores bounded per-topic history and fans events out to subscribers.
 * Adapters: in-memory (one instance) and Redis (many instances).
 */
export abstract class Broker {
  /**
   * Appends events to their topics' history and fans them out. Resolves only once stored.
   * @throws BrokerError `broker-unavailable` when nothing could be stored (nothing was published),
   *   `idempotency-conflict` when the key was used with another fingerprint.
   */
  abstract publish(
    events: readonly PublishRequest[],
    options?: PublishOptions,
  ): Promise<PublishResult>;

  /**
   * A cold Observable of events for topics matching any filter, in publish order per topic.
   * With a cursor it first replays what followed the cursor (or emits one reset).
   * Unsubscribing frees everything the subscription holds.
   */
  abstract subscribe(
    filters: readonly TopicFilter[],
    options?: SubscribeOptions,
  ): Observable<BrokerMessage>;

  /**
   * The same stream as {@link subscribe}, delivered straight to `sink`. Adapters may override it
   * with a cheaper path (no per-delivery Observable chain); the default subscribes.
   */
  attach(
    filters: readonly TopicFilter[],
    options: SubscribeOptions,
    sink: BrokerSink,
  ): BrokerAttachment {
    return this.subscribe(filters, options).subscribe(sink);
  }

  /**
   * The newest retained event of each topic matching `filters` (of at most `maxTopics` topics,
   * the most recently published), oldest first, with the cursor they were read at: a
   * subscription from that cursor continues with no gap or duplicate (`since=latest`).
   * @throws BrokerError `broker-unavailable` when the history cannot be read.
   */
  abstract latest(filters: readonly TopicFilter[], maxTopics: number): Promise<LatestEvents>;

  /** True when `cursor` has this adapter's syntax (a malformed cursor is a 400). */
  abstract isWellFormedCursor(cursor: string): boolean;

  /** A cursor meaning "from about now": resuming from it replays nothing already seen. */
  abstract nowCursor(): string;

  /**
   * Resolves when the broker can serve publishes.
   * @throws BrokerError `broker-unavailable` otherwise.
   */
  abstract ping(): Promise<void>;

  /** Counters for health, metrics and leak tests. */
  abstract stats(): BrokerStats;

  /**
   * The history policy of a concrete `topic` and its retained count (both adapters implement
   * it; the default, for other brokers, refuses).
   * @throws BrokerError `broker-unavailable`.
   */
  topicHistory(topic: string): Promise<TopicHistoryInfo> {
    return Promise.reject(
      new BrokerError(
        BrokerErrorCode.Unavailable,
        `this broker does not report topic history (${topic})`,
      ),
    );
  }

  /** Releases connections and timers; subscriptions still open are completed. */
  abstract close(): Promise<void>;
}

import type { IdempotencyKey } from './idempotency.key';

/** One event to publish. `data` is already-serialized JSON text. */
export interface PublishRequest {
  readonly topic: string;
  readonly type: string;
  readonly data: string;
}

/** Options of {@link Broker.publish}. */
export interface PublishOptions {
  /**
   * Deduplicates retries for the history TTL: the same key in the same scope returns the first
   * ids and publishes nothing.
   */
  readonly idempotencyKey?: IdempotencyKey;
  /** Digest of the request; a retry with the same key and another digest is refused. */
  readonly fingerprint?: string;
  /** Trace context carried with the events (W3C `traceparent`), if tracing is on. */
  readonly traceparent?: string;
}

/** The outcome of a publish: one id per event, in order. */
export interface PublishResult {
  readonly ids: readonly string[];
  /** True when the ids come from an earlier publish with the same idempotency key. */
  readonly duplicate: boolean;
}

/** An event as stored and delivered. The same object is handed to every local subscriber. */
export interface BrokerEvent {
  readonly kind: 'event';
  /** Opaque cursor, at most 128 bytes of `[A-Za-z0-9._~:-]`. */
  readonly id: string;
  readonly topic: string;
  readonly type: string;
  /** Serialized JSON. */
  readonly data: string;
  /** Epoch ms at which the broker accepted the event. */
  readonly publishedAt: number;
  readonly traceparent?: string;
}

/** Why a resume could not replay. */
export type ResetReason = 'history-expired' | 'unknown-cursor';

/** Sent first when a cursor cannot be honoured; `cursor` is where the live stream starts. */
export interface BrokerReset {
  readonly kind: 'reset';
  readonly reason: ResetReason;
  readonly cursor: string;
}

/** What a subscription emits: events, possibly preceded by one reset. */
export type BrokerMessage = BrokerEvent | BrokerReset;

/** The history policy in force for one topic and what it retains now (admin). */
export interface TopicHistoryInfo {
  readonly topic: string;
  readonly policy: {
    /** The HISTORY_POLICIES pattern that matched, or `null` for HISTORY_SIZE / HISTORY_TTL_S. */
    readonly pattern: string | null;
    readonly size: number;
    readonly ttlSeconds: number;
  };
  /** Events retained for resume (at most `size`). */
  readonly retained: number;
}

/** Counters for health, metrics and leak tests. */
export interface BrokerStats {
  /** Live subscriptions held by this instance. */
  readonly subscriptions: number;
  /** Topics with retained history on this instance (memory) or known to it. */
  readonly topics: number;
}

/**
 * Most topics one `since=latest` replays (the most recently published first picked; CONTRACT
 * section 10).
 */
export const LATEST_MAX_TOPICS = 100;

/** What {@link Broker.latest} read: newest events, and where attaching continues after them. */
export interface LatestEvents {
  /** The newest retained event of each topic, oldest first. */
  readonly events: readonly BrokerEvent[];
  /**
   * Read at the same instant: attaching from it replays nothing older, misses nothing newer.
   * Undefined when the key space has no event yet (attach live).
   */
  readonly cursor: string | undefined;
}

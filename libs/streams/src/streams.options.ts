/** Options of {@link StreamsModule}. */
export interface StreamsModuleOptions {
  /** Heartbeat comment period (HEARTBEAT_MS). */
  readonly heartbeatMs: number;
  /** `retry:` hint sent on open (RETRY_MS). */
  readonly retryMs: number;
  /** Unsent bytes past which a connection is closed as a slow consumer (MAX_BUFFERED_BYTES). */
  readonly maxBufferedBytes: number;
  /** Topics and patterns per connection (MAX_TOPICS_PER_CONNECTION). */
  readonly maxTopicsPerConnection: number;
  /** `retry` answers transient refusals with a 200 shed stream, `status` with 429/503 (SHED_MODE). */
  readonly shedMode: 'retry' | 'status';
  /** Window over which drain spreads closes (SHUTDOWN_GRACE_MS). */
  readonly shutdownGraceMs: number;
  /**
   * Ceiling of the adaptive write-coalescing wait (BATCH_LINGER_MS): under load (the scheduler's
   * duty cycle) flush runs are spaced to about 4x their duration, never more than this; 0 (the
   * default) flushes once per tick, no wait.
   */
  readonly batchLingerMs: number;
  /** How long before token `exp` a stream gets `herald.token-expiring` (TOKEN_EXPIRY_WARNING_MS). */
  readonly tokenExpiryWarningMs: number;
  /** `gzip` compresses streams for clients that accept it, flushed per batch (COMPRESSION). */
  readonly compression?: 'off' | 'gzip';
  /** This instance's id, reported in the registry (INSTANCE_ID). */
  readonly instanceId: string;
}

import type { RedisConnectionOptions } from '@herald/redis';

/** Options of {@link IngestModule}. */
export interface IngestModuleOptions {
  /** Where Redis is: one node, Cluster or Sentinel. */
  readonly redis: RedisConnectionOptions;
  /** The stream services XADD into (INGEST_STREAM, default `herald:ingest`). */
  readonly stream: string;
  /** Consumer group shared by every instance (default `herald`). */
  readonly group?: string;
  /** This instance's consumer name (INSTANCE_ID). */
  readonly consumer: string;
  /** Entries pending longer than this on any consumer are claimed (INGEST_CLAIM_IDLE_MS). */
  readonly claimIdleMs: number;
  /**
   * Approximate cap of `<stream>:dead` (INGEST_DEAD_MAXLEN, default 10,000): the oldest dead
   * letters are trimmed (`XADD MAXLEN ~`), so a stream of bad entries cannot fill Redis.
   */
  readonly deadMaxLen?: number;
  /** Entries per read (default 100). */
  readonly batchSize?: number;
  /** Longest blocking read, in ms (default 1000; also bounds how long shutdown waits). */
  readonly blockMs?: number;
}

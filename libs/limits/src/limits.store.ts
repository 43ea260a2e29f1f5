/** The outcome of taking tokens from a bucket. */
export interface BucketTake {
  readonly allowed: boolean;
  /** Tokens left after this take. */
  readonly tokens: number;
  /** When refused: time until the tokens asked for are available, in ms; else 0. */
  readonly retryAfterMs: number;
  /** Time until the bucket is full again, in ms. */
  readonly fullInMs: number;
}

/** One counted limit a lease must fit in: at most `cap` live members under `key`. */
export interface LeaseClaim {
  readonly key: string;
  readonly cap: number;
}

/**
 * Where rate and concurrency counters live: in this process, or in Redis shared by every
 * instance. Every operation is atomic per call.
 */
export abstract class LimitsStore {
  /**
   * Takes `cost` tokens (default 1), all or none, from the bucket `key` (refilled at `ratePerS`
   * up to `burst`); `cost` 0 checks that one token is left without taking it.
   */
  abstract take(key: string, ratePerS: number, burst: number, cost?: number): Promise<BucketTake>;

  /**
   * Adds `member` to every claim's set, all or nothing, dropping expired members first.
   * @returns -1 when granted, else the index of the first claim at its cap.
   */
  abstract acquire(member: string, claims: readonly LeaseClaim[], ttlMs: number): Promise<number>;

  /** Extends the leases of these members (by key) to `ttlMs` from now. */
  abstract refresh(leases: ReadonlyMap<string, readonly string[]>, ttlMs: number): Promise<void>;

  /** Removes `member` from these keys. */
  abstract release(member: string, keys: readonly string[]): Promise<void>;

  /** Frees connections and timers. */
  abstract close(): Promise<void>;
}

import { LimitsStore, type BucketTake, type LeaseClaim } from '../limits.store';
import { takeToken, type BucketState } from '../token-bucket';

const SWEEP_EVERY_MS = 60_000;

/** Counters in this process (one instance). Leases never expire: closes release them. */
export class InMemoryLimitsStore extends LimitsStore {
  private readonly buckets = new Map<string, BucketState & { fullAt: number }>();
  private readonly leases = new Map<string, Set<string>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    super();
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  take(key: string, ratePerS: number, burst: number, cost = 1): Promise<BucketTake> {
    const now = this.now();
    const { state, take } = takeToken(this.buckets.get(key), now, ratePerS, burst, cost);
    this.buckets.set(key, { ...state, fullAt: now + take.fullInMs });
    return Promise.resolve(take);
  }

  acquire(member: string, claims: readonly LeaseClaim[]): Promise<number> {
    for (const [index, claim] of claims.entries()) {
      const set = this.leases.get(claim.key);
      if (set !== undefined && !set.has(member) && set.size >= claim.cap) {
        return Promise.resolve(index);
      }
    }
    for (const claim of claims) {
      let set = this.leases.get(claim.key);
      if (set === undefined) this.leases.set(claim.key, (set = new Set()));
      set.add(member);
    }
    return Promise.resolve(-1);
  }

  refresh(): Promise<void> {
    return Promise.resolve();
  }

  release(member: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const set = this.leases.get(key);
      set?.delete(member);
      if (set?.size === 0) this.leases.delete(key);
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }

  /** Forgets full buckets: they are equivalent to buckets never seen. */
  private sweep(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) if (bucket.fullAt <= now) this.buckets.delete(key);
  }
}

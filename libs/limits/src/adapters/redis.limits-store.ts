import { RedisConnections, type RedisClient, type RedisConnectionOptions } from '@herald/redis';
import { LimitsStore, type BucketTake, type LeaseClaim } from '../limits.store';
import { ACQUIRE_LEASE, REFRESH_LEASES, TAKE_TOKEN } from './redis.limits-scripts';

/** Options of {@link RedisLimitsStore}. */
export interface RedisLimitsStoreOptions {
  /** Where Redis is: one node, Cluster or Sentinel. */
  readonly redis: RedisConnectionOptions;
  /** Prepended to every key. */
  readonly keyPrefix: string;
  /** A command slower than this fails (and the caller fails open). */
  readonly commandTimeoutMs: number;
}

/** The custom commands defined from the Lua scripts. */
interface LimitsCommands {
  heraldTakeToken(
    key: string,
    ratePerMs: number,
    burst: number,
    cost: number,
  ): Promise<[number, string, number, number]>;
  heraldAcquireLease(numKeys: number, ...args: (string | number)[]): Promise<number>;
  heraldRefreshLeases(key: string, ...args: (string | number)[]): Promise<number>;
}

const REFRESH_CHUNK = 1000;

/**
 * Counters shared by every instance: token buckets as hashes and leases as sorted sets
 * (member = connection id, score = lease expiry), each operation one atomic Lua script on the
 * Redis server's clock. Lease keys share the `{leases}` hash tag, so the all-or-nothing acquire
 * over several of them runs in one Redis Cluster slot. Commands fail within `commandTimeoutMs` when Redis is away, so callers
 * can fail open.
 */
export class RedisLimitsStore extends LimitsStore {
  private readonly redis: RedisClient;
  private readonly commands: LimitsCommands;

  constructor(private readonly options: RedisLimitsStoreOptions) {
    super();
    this.redis = new RedisConnections(options.redis).create('commands', {
      name: 'herald-limits',
      // Commands wait for a (re)connection at most commandTimeout, then the caller fails open.
      commandTimeoutMs: options.commandTimeoutMs,
      offlineQueue: true,
    });
    // Errors surface on each command (the caller fails open); keep the client from throwing.
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('heraldTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
    this.redis.defineCommand('heraldAcquireLease', { lua: ACQUIRE_LEASE });
    this.redis.defineCommand('heraldRefreshLeases', { numberOfKeys: 1, lua: REFRESH_LEASES });
    this.commands = this.redis as unknown as LimitsCommands;
  }

  async take(key: string, ratePerS: number, burst: number, cost = 1): Promise<BucketTake> {
    const [allowed, tokens, wait, full] = await this.commands.heraldTakeToken(
      this.key(`bucket:${key}`),
      ratePerS / 1000,
      burst,
      cost,
    );
    return {
      allowed: allowed === 1,
      tokens: Number(tokens),
      retryAfterMs: Number(wait),
      fullInMs: Number(full),
    };
  }

  async acquire(member: string, claims: readonly LeaseClaim[], ttlMs: number): Promise<number> {
    if (claims.length === 0) return -1;
    const refused = await this.commands.heraldAcquireLease(
      claims.length,
      ...claims.map((c) => this.key(`{leases}:lease:${c.key}`)),
      member,
      ttlMs,
      ...claims.map((c) => c.cap),
    );
    return refused === 0 ? -1 : refused - 1;
  }

  async refresh(leases: ReadonlyMap<string, readonly string[]>, ttlMs: number): Promise<void> {
    const pending: Promise<number>[] = [];
    for (const [key, members] of leases) {
      for (let i = 0; i < members.length; i += REFRESH_CHUNK) {
        pending.push(
          this.commands.heraldRefreshLeases(
            this.key(`{leases}:lease:${key}`),
            ttlMs,
            ...members.slice(i, i + REFRESH_CHUNK),
          ),
        );
      }
    }
    await Promise.all(pending);
  }

  async release(member: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.zrem(this.key(`{leases}:lease:${key}`), member);
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (failed) throw failed;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private key(suffix: string): string {
    return `${this.options.keyPrefix}${suffix}`;
  }
}

import { Logger } from '@nestjs/common';
import { RedisConnections, type RedisClient, type RedisConnectionOptions } from '@herald/redis';

/** A subscription as the subscriptions API and subscription events describe it (JSON-LD). */
export interface MercureSubscriptionDoc {
  readonly '@context'?: string;
  readonly id: string;
  readonly type: 'Subscription';
  /** The selector (0.x name). */
  readonly topic: string;
  /** The selector (1.0 name) and its matcher type (`Exact`, `URLPattern`, `Legacy`). */
  readonly match: string;
  readonly matchType: string;
  readonly subscriber: string;
  readonly active: boolean;
  readonly payload?: unknown;
}

/**
 * Port: which instance holds which subscriptions, so that another instance announces the
 * subscriptions of one that died (no heartbeat) as terminated. Memory: nothing to share.
 */
export abstract class MercureSubscriptionStore {
  abstract add(instance: string, docs: readonly MercureSubscriptionDoc[]): Promise<void>;
  abstract remove(instance: string, ids: readonly string[]): Promise<void>;
  /**
   * Takes over the subscriptions of instances with entries but not in `live` (each dead instance
   * is claimed by one caller only); returns them, and forgets them.
   */
  abstract reap(live: ReadonlySet<string>): Promise<MercureSubscriptionDoc[]>;
  abstract close(): Promise<void>;
}

/** One instance: subscriptions die with the process, nothing to announce for it. */
export class MemoryMercureSubscriptionStore extends MercureSubscriptionStore {
  add(): Promise<void> {
    return Promise.resolve();
  }
  remove(): Promise<void> {
    return Promise.resolve();
  }
  reap(): Promise<MercureSubscriptionDoc[]> {
    return Promise.resolve([]);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** How long a claim on a dead instance's subscriptions holds (one reaper at a time). */
const REAP_CLAIM_MS = 30_000;

/** Redis: a hash of subscriptions per instance and a set of instances that have some. */
export class RedisMercureSubscriptionStore extends MercureSubscriptionStore {
  private readonly logger = new Logger('MercureSubscriptions');
  private readonly redis: RedisClient;
  private readonly base: string;

  constructor(redis: RedisConnectionOptions, keyPrefix: string) {
    super();
    this.redis = new RedisConnections(redis).create('commands', {
      name: 'herald-mercure-subs',
      commandTimeoutMs: 2000,
      offlineQueue: true,
    });
    this.redis.on('error', (err: Error) => this.logger.debug(`redis: ${err.message}`));
    this.base = `${keyPrefix}{mercure}:`;
  }

  private hash(instance: string): string {
    return `${this.base}subs:${instance}`;
  }

  async add(instance: string, docs: readonly MercureSubscriptionDoc[]): Promise<void> {
    if (docs.length === 0) return;
    const fields: string[] = [];
    for (const d of docs) fields.push(d.id, JSON.stringify(d));
    await this.redis
      .multi()
      .hset(this.hash(instance), ...fields)
      .sadd(`${this.base}subs-instances`, instance)
      .exec();
  }

  async remove(instance: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.hdel(this.hash(instance), ...ids);
  }

  async reap(live: ReadonlySet<string>): Promise<MercureSubscriptionDoc[]> {
    const holders = await this.redis.smembers(`${this.base}subs-instances`);
    const out: MercureSubscriptionDoc[] = [];
    for (const instance of holders) {
      if (live.has(instance)) continue;
      const claimed = await this.redis.set(
        `${this.base}reap:${instance}`,
        '1',
        'PX',
        REAP_CLAIM_MS,
        'NX',
      );
      if (claimed !== 'OK') continue;
      const entries = await this.redis.hvals(this.hash(instance));
      for (const e of entries) {
        try {
          out.push(JSON.parse(e) as MercureSubscriptionDoc);
        } catch {
          // An entry this version did not write: dropped with the rest.
        }
      }
      await this.redis
        .multi()
        .del(this.hash(instance))
        .srem(`${this.base}subs-instances`, instance)
        .exec();
    }
    return out;
  }

  close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}

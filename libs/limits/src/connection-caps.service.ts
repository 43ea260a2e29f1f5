import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { ipKey, type ClientIdentity } from './client.key';
import { LIMITS_MODULE_OPTIONS } from './limits.module-definition';
import { DEFAULT_LEASE_TTL_MS, type LimitsModuleOptions } from './limits.options';
import { LimitsStats } from './limits.stats';
import { LimitsStore, type LeaseClaim } from './limits.store';

/** Which cap refused a stream. */
export type CapLimit = 'instance' | 'user' | 'ip';

/** A held slot; {@link release} is idempotent and must run on every close path. */
export interface ConnectionLease {
  readonly id: string;
  release(): void;
}

/** The outcome of {@link ConnectionCaps.acquire}. */
export type CapDecision =
  | { readonly admitted: true; readonly lease: ConnectionLease }
  | { readonly admitted: false; readonly limit: CapLimit };

/**
 * Concurrent stream caps: MAX_CONNECTIONS on this instance (a local count), and
 * MAX_CONNECTIONS_PER_USER (streams with a `sub`) or MAX_CONNECTIONS_PER_IP (anonymous streams)
 * in the {@link LimitsStore}. With Redis every slot is a lease that one shared timer refreshes
 * every third of its TTL, so slots of a dead instance expire within the TTL. Store errors fail
 * open and are counted.
 */
@Injectable()
export class ConnectionCaps implements OnModuleDestroy {
  private readonly logger = new Logger(ConnectionCaps.name);
  private readonly held = new Map<string, readonly string[]>();
  private readonly ttlMs: number;
  private readonly refresher: NodeJS.Timeout | undefined;
  private reserved = 0;
  private lastWarnAt = 0;

  constructor(
    private readonly store: LimitsStore,
    private readonly stats: LimitsStats,
    @Inject(LIMITS_MODULE_OPTIONS) private readonly options: LimitsModuleOptions,
  ) {
    this.ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    if (options.driver === 'redis') {
      this.refresher = setInterval(() => this.refresh(), Math.max(50, Math.floor(this.ttlMs / 3)));
      this.refresher.unref();
    }
  }

  /** Slots held or being acquired on this instance. */
  get active(): number {
    return this.reserved;
  }

  /** Takes a slot for `client`, or says which cap is full. */
  async acquire(client: ClientIdentity): Promise<CapDecision> {
    if (this.reserved >= this.options.maxConnections) return { admitted: false, limit: 'instance' };
    this.reserved++;
    // One flat string: `randomUUID()` returns concatenated pieces, kept as long as the lease.
    const id = Buffer.from(randomUUID(), 'latin1').toString('latin1');
    const claim: LeaseClaim =
      client.sub !== undefined
        ? { key: `user:${client.sub}`, cap: this.options.maxConnectionsPerUser }
        : { key: `ip:${ipKey(client.ip)}`, cap: this.options.maxConnectionsPerIp };
    let refused = -1;
    try {
      refused = await this.store.acquire(id, [claim], this.ttlMs);
    } catch (err) {
      this.stats.recordFailOpen('caps');
      this.warn(`connection cap store failed, allowing streams: ${String(err)}`);
    }
    if (refused >= 0) {
      this.reserved--;
      return { admitted: false, limit: client.sub !== undefined ? 'user' : 'ip' };
    }
    // Held even when the store failed: refreshes re-add it once the store is back.
    this.held.set(id, [claim.key]);
    return { admitted: true, lease: { id, release: () => this.release(id) } };
  }

  /** Stops refreshing leases (they expire in the store within the TTL). */
  onModuleDestroy(): void {
    clearInterval(this.refresher);
  }

  /** Logs at most one warning per 10 s: an outage must not flood the logs. */
  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarnAt < 10_000) return;
    this.lastWarnAt = now;
    this.logger.warn(message);
  }

  private release(id: string): void {
    const keys = this.held.get(id);
    if (keys === undefined) return;
    this.held.delete(id);
    this.reserved--;
    this.store.release(id, keys).catch((err: unknown) => {
      this.warn(`releasing a connection slot failed (it expires): ${String(err)}`);
    });
  }

  private refresh(): void {
    if (this.held.size === 0) return;
    const byKey = new Map<string, string[]>();
    for (const [id, keys] of this.held) {
      for (const key of keys) {
        const members = byKey.get(key);
        if (members === undefined) byKey.set(key, [id]);
        else members.push(id);
      }
    }
    this.store.refresh(byKey, this.ttlMs).catch((err: unknown) => {
      this.warn(`refreshing connection slots failed: ${String(err)}`);
    });
  }
}

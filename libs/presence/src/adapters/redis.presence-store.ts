import { Logger } from '@nestjs/common';
import { RedisConnections, type RedisClient, type RedisConnectionOptions } from '@herald/redis';
import {
  PresenceStore,
  snapshotOf,
  type PresenceBatch,
  type PresenceChange,
  type PresenceEntry,
  type PresenceSnapshot,
} from '../presence.store';
import { APPLY_PRESENCE } from './redis.presence-scripts';

/** Options of {@link RedisPresenceStore}. */
export interface RedisPresenceStoreOptions {
  readonly redis: RedisConnectionOptions;
  /** REDIS_KEY_PREFIX; keys are `<prefix>{presence}:...`. */
  readonly keyPrefix: string;
  /** Lease of each connection (PRESENCE_LEASE_TTL_MS). */
  readonly leaseTtlMs: number;
}

/** Topics one reap round visits at most. */
const REAP_TOPICS = 1000;

interface PresenceCommands {
  heraldPresence(
    c: string,
    m: string,
    u: string,
    topics: string,
    ...args: (string | number)[]
  ): Promise<number>;
}

/**
 * Presence shared by every instance. Each connection on a topic is a lease (the same scheme as
 * the connection caps' `{leases}`: a sorted set member whose score is its expiry, refreshed
 * every third of the TTL), so the connections of an instance killed without closing them
 * expire; any instance's reap (every tenth of the TTL) then turns them into leaves. Every
 * update is one Lua script per topic that publishes the joins and leaves it caused on one
 * channel, which every instance hands to its own subscribers. All keys share the `{presence}`
 * hash tag (one Redis Cluster slot).
 */
export class RedisPresenceStore extends PresenceStore {
  private readonly logger = new Logger(RedisPresenceStore.name);
  private readonly cmd: RedisClient;
  private readonly sub: RedisClient;
  private readonly commands: PresenceCommands;
  private readonly base: string;
  private readonly channel: string;
  private listener: ((batch: PresenceBatch) => void) | undefined;

  constructor(private readonly options: RedisPresenceStoreOptions) {
    super();
    const connections = new RedisConnections(options.redis);
    this.cmd = connections.create('commands', {
      name: 'herald-presence',
      commandTimeoutMs: 2000,
      offlineQueue: true,
    });
    this.cmd.on('error', () => undefined);
    this.sub = connections.create('subscriber', { name: 'herald-presence-sub' });
    this.sub.on('error', () => undefined);
    this.base = `${options.keyPrefix}{presence}:`;
    this.channel = `${this.base}events`;
    this.cmd.defineCommand('heraldPresence', { numberOfKeys: 4, lua: APPLY_PRESENCE });
    this.commands = this.cmd as unknown as PresenceCommands;
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.onMessage(message);
    });
    this.sub.subscribe(this.channel).catch((err: unknown) => {
      this.logger.warn(`presence channel subscribe failed: ${String(err)}`);
    });
  }

  async apply(
    topic: string,
    instance: string,
    enters: readonly PresenceEntry[],
    leaves: readonly PresenceEntry[],
  ): Promise<void> {
    const args: (string | number)[] = [topic, this.options.leaseTtlMs, instance, this.channel];
    args.push(enters.length);
    for (const e of enters) args.push(e.id, e.sub ?? '');
    for (const e of leaves) args.push(e.id);
    await this.commands.heraldPresence(...this.keysOf(topic), this.topicsKey, ...args);
  }

  async refresh(
    instance: string,
    open: ReadonlyMap<string, readonly PresenceEntry[]>,
  ): Promise<void> {
    await Promise.all(
      [...open].map(([topic, entries]) => this.apply(topic, instance, entries, [])),
    );
  }

  async reap(): Promise<void> {
    const topics = await this.cmd.zrange(this.topicsKey, '0', String(REAP_TOPICS - 1));
    await Promise.all(topics.map((topic) => this.apply(topic, '', [], [])));
  }

  async snapshot(
    topic: string,
    limit: number,
    after: string | undefined,
  ): Promise<PresenceSnapshot> {
    await this.apply(topic, '', [], []);
    const owners = await this.cmd.hgetall(this.keysOf(topic)[1]);
    const pairs = Object.values(owners).map((meta): readonly [string, string | undefined] => {
      const nl = meta.indexOf('\n');
      const sub = meta.slice(nl + 1);
      return [meta.slice(0, nl), sub === '' ? undefined : sub];
    });
    return snapshotOf(topic, pairs, limit, after);
  }

  onBatch(listener: (batch: PresenceBatch) => void): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    await this.cmd.quit().catch(() => this.cmd.disconnect());
  }

  private get topicsKey(): string {
    return `${this.base}topics`;
  }

  private keysOf(topic: string): [string, string, string] {
    return [`${this.base}c:${topic}`, `${this.base}m:${topic}`, `${this.base}u:${topic}`];
  }

  private onMessage(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    const p = parsed as {
      topic?: unknown;
      connections?: unknown;
      users?: unknown;
      changes?: unknown;
    };
    if (typeof p.topic !== 'string' || !Array.isArray(p.changes)) return;
    const changes: PresenceChange[] = [];
    for (const c of p.changes as unknown[]) {
      if (typeof c !== 'string' || c.length < 2) continue;
      changes.push({ kind: c[0] === 'j' ? 'join' : 'leave', sub: c.slice(1) });
    }
    this.listener?.({
      topic: p.topic,
      connections: Number(p.connections) || 0,
      users: Number(p.users) || 0,
      changes,
    });
  }
}

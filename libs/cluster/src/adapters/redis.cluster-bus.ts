import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { RedisConnections, type RedisClient, type RedisConnectionOptions } from '@herald/redis';
import {
  ClusterBus,
  type ClusterAnswer,
  type ClusterPayload,
  type ClusterQuery,
  type ClusterReply,
  type ClusterResponder,
} from '../cluster.port';
import { ClusterError, ClusterErrorCode } from '../cluster.errors';

/** Options of {@link RedisClusterBus}. */
export interface RedisClusterBusOptions {
  readonly instanceId: string;
  /** Where Redis is: one node, Cluster or Sentinel. */
  readonly redis: RedisConnectionOptions;
  /** Prefix of every key and channel (e.g. `herald:`). */
  readonly keyPrefix: string;
  /** Heartbeat period; an instance silent for 3 periods is considered gone. Default 5000. */
  readonly heartbeatMs?: number;
}

interface Request {
  readonly id: string;
  readonly from: string;
  readonly query: string;
  readonly payload: unknown;
}

interface Reply {
  readonly id: string;
  readonly instance: string;
  readonly answer: unknown;
}

interface Pending {
  readonly expected: Set<string>;
  readonly answers: ClusterAnswer<unknown>[];
  readonly done: () => void;
}

/**
 * Cluster bus over Redis: live instances in a sorted set scored by heartbeat time, requests on one
 * pub/sub channel, replies on a per-instance channel. Separate connections for commands and
 * subscriptions.
 */
export class RedisClusterBus extends ClusterBus {
  readonly instanceId: string;
  private readonly logger = new Logger(RedisClusterBus.name);
  private readonly commands: RedisClient;
  private readonly subscriber: RedisClient;
  /** Responders by query name, as called with what came off the wire. */
  private readonly responders = new Map<string, (payload: unknown) => unknown>();
  private readonly pending = new Map<string, Pending>();
  private readonly heartbeatMs: number;
  private readonly timer: NodeJS.Timeout;
  private readonly keys: { instances: string; requests: string; replies: (id: string) => string };
  private subscribed = false;

  constructor(options: RedisClusterBusOptions) {
    super();
    this.instanceId = options.instanceId;
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    const p = options.keyPrefix;
    this.keys = {
      instances: `${p}cluster:instances`,
      requests: `${p}cluster:requests`,
      replies: (id) => `${p}cluster:replies:${id}`,
    };
    // Admin requests may wait briefly for a (re)connection, never longer than commandTimeout.
    const connections = new RedisConnections(options.redis);
    this.commands = connections.create('commands', {
      name: 'herald-cluster-bus',
      commandTimeoutMs: 2000,
      offlineQueue: true,
    });
    this.subscriber = connections.create('subscriber', { name: 'herald-cluster-bus-sub' });
    for (const c of [this.commands, this.subscriber]) {
      c.on('error', (err: Error) => this.logger.debug(`redis: ${err.message}`));
    }
    this.subscriber.on('message', (channel: string, message: string) =>
      this.onMessage(channel, message),
    );
    // Subscribe on every (re)connection: a Redis that was down at boot, or restarted, is picked up
    // when it comes back. Until then this instance neither heartbeats nor answers.
    this.subscriber.on('ready', () => void this.subscribe());
    this.subscriber.on('close', () => (this.subscribed = false));
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  answer<Q extends ClusterQuery>(query: Q, responder: ClusterResponder<Q>): void {
    this.responders.set(query, (payload) => responder(payload as ClusterPayload<Q>));
  }

  async collect<Q extends ClusterQuery>(
    query: Q,
    payload: ClusterPayload<Q>,
    timeoutMs = 2000,
  ): Promise<ClusterAnswer<ClusterReply<Q>>[]> {
    if (!this.subscribed) {
      throw new ClusterError(
        ClusterErrorCode.Unavailable,
        'cluster bus is not connected to Redis; retry later',
      );
    }
    const live = await this.unavailableOnError(this.instances());
    const id = randomUUID();
    const answers: ClusterAnswer<unknown>[] = [];
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const expected = new Set(live);
    expected.add(this.instanceId);
    this.pending.set(id, { expected, answers, done: finish });
    const timer = setTimeout(finish, timeoutMs);
    try {
      const request: Request = { id, from: this.instanceId, query, payload };
      await this.unavailableOnError(
        this.commands.publish(this.keys.requests, JSON.stringify(request)),
      );
      await finished;
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
    return answers as ClusterAnswer<ClusterReply<Q>>[];
  }

  async instances(): Promise<string[]> {
    const since = Date.now() - this.heartbeatMs * 3;
    return this.unavailableOnError(this.commands.zrangebyscore(this.keys.instances, since, '+inf'));
  }

  /**
   * A command that failed (Redis stalled past commandTimeout, or reconnecting) is a transient
   * refusal (503), not an internal error: the subscriber connection alone cannot tell that the
   * command connection is healthy.
   */
  private async unavailableOnError<T>(command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (err) {
      this.logger.warn(`cluster bus command failed: ${String(err)}`);
      throw new ClusterError(
        ClusterErrorCode.Unavailable,
        'cluster bus: Redis did not answer; retry later',
      );
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.commands.zrem(this.keys.instances, this.instanceId).catch(() => undefined);
    this.subscriber.disconnect();
    this.commands.disconnect();
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.keys.requests, this.keys.replies(this.instanceId));
      this.subscribed = true;
      await this.beat();
    } catch (err) {
      this.logger.warn(`cluster subscribe failed: ${String(err)}`);
    }
  }

  private async beat(): Promise<void> {
    if (!this.subscribed) return;
    try {
      const now = Date.now();
      await this.commands
        .multi()
        .zadd(this.keys.instances, now, this.instanceId)
        .zremrangebyscore(this.keys.instances, '-inf', now - this.heartbeatMs * 3)
        .exec();
    } catch (err) {
      this.logger.debug(`cluster heartbeat failed: ${String(err)}`);
    }
  }

  private onMessage(channel: string, message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (channel === this.keys.requests) void this.respond(parsed as Request);
    else this.collectReply(parsed as Reply);
  }

  private async respond(request: Request): Promise<void> {
    const responder = this.responders.get(request.query);
    if (!responder) return;
    try {
      const answer = await responder(request.payload);
      const reply: Reply = { id: request.id, instance: this.instanceId, answer };
      await this.commands.publish(this.keys.replies(request.from), JSON.stringify(reply));
    } catch (err) {
      this.logger.warn(`cluster request ${request.query} failed: ${String(err)}`);
    }
  }

  private collectReply(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    pending.answers.push({ instance: reply.instance, answer: reply.answer });
    pending.expected.delete(reply.instance);
    if (pending.expected.size === 0) pending.done();
  }
}

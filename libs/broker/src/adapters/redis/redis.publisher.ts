import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { RedisClient } from '@herald/redis';
import { BrokerError, BrokerErrorCode } from '../../broker.errors';
import { idempotencyRecordName } from '../../idempotency.key';
import type { PublishOptions, PublishRequest } from '../../broker.types';
import { parseRedisCursor } from './redis.keys';
import type { HistoryPolicies } from '../../history.policies';
import type { RedisKeyspace } from './redis.partitions';
import { PUBLISH_SCRIPT } from './redis.publish.script';

/** Where one published event was stored. */
export interface StoredPosition {
  readonly partition: number;
  readonly epoch: string;
  readonly ms: number;
  readonly seq: number;
}

/** The outcome of {@link RedisPublisher.publish}: one position per event, in request order. */
export interface StoredBatch {
  readonly positions: readonly StoredPosition[];
  /** True when every partition answered from an earlier publish with the same key. */
  readonly duplicate: boolean;
}

/** Settings of the publish path. */
export interface RedisPublisherOptions {
  /** History size and age per topic. */
  readonly policies: HistoryPolicies;
  /** Lifetime of idempotency records (HISTORY_TTL_S). */
  readonly historyTtlMs: number;
  readonly minReplicasAck?: number;
  readonly replicasAckTimeoutMs?: number;
}

/**
 * The write path: runs the atomic publish script once per partition a batch touches (one
 * partition: exactly today's single call), with `WAIT` when replicas must confirm.
 *
 * Atomicity: each partition's share of a batch is stored atomically (all or nothing, one
 * consecutive run of that partition's sequence). A batch spanning partitions is not atomic as a
 * whole: if one partition fails, the others may be stored, and the publish fails with 503 saying
 * so; a retry with the same Idempotency-Key then stores only the missing shares.
 *
 * Idempotency with several partitions: each partition keeps its own record of its share (in its
 * own slot); the key's home partition (a hash of the record name) runs first, even with no event
 * of its own, so that a key reused with another fingerprint is refused before anything is stored.
 */
export class RedisPublisher {
  private readonly scriptSha = createHash('sha1').update(PUBLISH_SCRIPT).digest('hex');
  /** SPUBLISH once the server is known to support sharded pub/sub (Redis >= 7). */
  publishCommand: 'PUBLISH' | 'SPUBLISH' = 'PUBLISH';

  constructor(
    private readonly cmd: RedisClient,
    private readonly keyspace: RedisKeyspace,
    private readonly options: RedisPublisherOptions,
    private readonly logger: Logger,
  ) {}

  /** Reads the server version once connected: SPUBLISH from Redis 7. */
  detectShardedPubSub(): void {
    this.cmd
      .info('server')
      .then((info) => {
        const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
        this.publishCommand = major >= 7 ? 'SPUBLISH' : 'PUBLISH';
      })
      .catch(() => undefined);
  }

  /**
   * Stores `events`, one script per partition.
   * @throws BrokerError `broker-unavailable` (nothing, or with several partitions possibly a part,
   *   was stored: the message says which), `idempotency-conflict`.
   */
  async publish(
    events: readonly PublishRequest[],
    options: PublishOptions = {},
  ): Promise<StoredBatch> {
    if (this.cmd.status !== 'ready') throw unavailable('Redis is not connected');
    const groups = new Map<number, number[]>();
    for (let i = 0; i < events.length; i++) {
      const p = this.keyspace.partitionOf(events[i].topic);
      const group = groups.get(p);
      if (group) group.push(i);
      else groups.set(p, [i]);
    }
    const positions: StoredPosition[] = new Array<StoredPosition>(events.length);
    let stored = 0;
    let duplicates = 0;
    const run = async (partition: number, indices: readonly number[]): Promise<void> => {
      const share = indices.map((i) => events[i]);
      let out: { duplicate: boolean; positions: StoredPosition[] };
      try {
        out = await this.publishShare(partition, share, options);
      } catch (err) {
        if (err instanceof BrokerError) throw err;
        throw publishFailed(err);
      }
      if (out.duplicate) duplicates++;
      stored++;
      out.positions.forEach((pos, k) => (positions[indices[k]] = pos));
    };
    const key = options.idempotencyKey;
    let rest = [...groups];
    if (key !== undefined && this.keyspace.count > 1) {
      const home = this.keyspace.partitionOf(`idem:${idempotencyRecordName(key)}`);
      await run(home, groups.get(home) ?? []);
      rest = rest.filter(([p]) => p !== home);
    }
    if (rest.length === 1 && stored === 0) await run(rest[0][0], rest[0][1]);
    else if (rest.length > 0) {
      const outcomes = await Promise.allSettled(rest.map(([p, indices]) => run(p, indices)));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) {
        const err: unknown = failed.reason;
        if (stored > 0 && err instanceof BrokerError && err.code === BrokerErrorCode.Unavailable) {
          throw partial(err);
        }
        throw err;
      }
    }
    return { positions, duplicate: stored > 0 && duplicates === stored };
  }

  /** One partition's share: one script call. */
  private async publishShare(
    partition: number,
    share: readonly PublishRequest[],
    options: PublishOptions,
  ): Promise<{ duplicate: boolean; positions: StoredPosition[] }> {
    const k = this.keyspace.partitions[partition];
    const key = options.idempotencyKey;
    const keys = [
      k.seq,
      k.last,
      k.epoch,
      k.topics,
      k.forgotten,
      // Unused by the script without a key; any name in the same slot will do.
      key === undefined ? `${k.seq}:no-idem` : k.idempotency(key),
      k.clock,
      ...share.map((e) => k.stream(e.topic)),
    ];
    const args: string[] = [
      String(share.length),
      // Taken only when the key space has no epoch yet (first publish, or Redis lost its data).
      randomBytes(6).readUIntBE(0, 6).toString(36),
      String(this.options.policies.maxTtlMs),
      String(this.options.historyTtlMs),
      key === undefined ? '0' : '1',
      options.fingerprint ?? '',
      options.traceparent ?? '',
      k.channel,
      this.publishCommand,
      this.keyspace.count > 1 ? '1' : '0',
    ];
    for (const e of share) {
      const policy = this.options.policies.of(e.topic);
      args.push(e.topic, e.type, e.data, String(policy.size), String(policy.ttlMs));
    }
    let reply: unknown;
    try {
      reply = await this.evalPublish(keys, args);
    } catch (err) {
      if (isReplyError(err)) this.logger.warn(`Redis refused a publish: ${errorText(err)}`);
      throw err;
    }
    const [status, a, b] = reply as [string, string, string?];
    if (status === 'dup') {
      const nl = a.indexOf('\n');
      if (a.slice(0, nl) !== (options.fingerprint ?? '')) {
        throw new BrokerError(
          BrokerErrorCode.IdempotencyConflict,
          'Idempotency-Key was already used with a different request',
        );
      }
      return { duplicate: true, positions: toPositions(partition, a.slice(nl + 1)) };
    }
    return { duplicate: false, positions: toPositions(partition, b ?? '') };
  }

  private async evalPublish(keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.runScript(false, keys, args);
    } catch (err) {
      if (!errorText(err).includes('NOSCRIPT')) throw err;
      return this.runScript(true, keys, args);
    }
  }

  /**
   * Runs the publish script; with `minReplicasAck`, `WAIT` follows in the same pipeline (so on
   * Cluster it reaches the primary that ran the script) and too few confirmations fail it.
   */
  private async runScript(full: boolean, keys: string[], args: string[]): Promise<unknown> {
    const replicas = this.options.minReplicasAck ?? 0;
    if (replicas === 0) {
      return full
        ? this.cmd.eval(PUBLISH_SCRIPT, keys.length, ...keys, ...args)
        : this.cmd.evalsha(this.scriptSha, keys.length, ...keys, ...args);
    }
    const pipeline = this.cmd.pipeline();
    if (full) pipeline.eval(PUBLISH_SCRIPT, keys.length, ...keys, ...args);
    else pipeline.evalsha(this.scriptSha, keys.length, ...keys, ...args);
    pipeline.call('WAIT', String(replicas), String(this.options.replicasAckTimeoutMs ?? 1000));
    const results = (await pipeline.exec()) ?? [];
    const [script, wait] = results;
    if (!script) throw new Error('no reply to the publish script');
    if (script[0]) throw script[0];
    if (wait?.[0]) throw wait[0];
    const confirmed = Number(wait?.[1] ?? 0);
    if (confirmed < replicas) {
      throw new Error(`${confirmed} of ${replicas} replicas confirmed the write in time`);
    }
    return script[1];
  }
}

/** `r.<epoch>.<ms>.<seq>,...` as the script returns (and records) them. */
function toPositions(partition: number, joined: string): StoredPosition[] {
  if (joined === '') return [];
  return joined.split(',').map((id) => {
    const c = parseRedisCursor(id);
    if (!c) throw new Error(`unexpected id from the publish script: ${id}`);
    return { partition, epoch: c.epoch, ms: c.ms, seq: c.seq };
  });
}

function unavailable(message: string, cause?: unknown): BrokerError {
  return new BrokerError(BrokerErrorCode.Unavailable, message, { cause });
}

function partial(err: BrokerError): BrokerError {
  return unavailable(
    `${err.message} (the batch spans partitions and other partitions stored their events: ` +
      'retry with the same Idempotency-Key to store only the rest)',
    err,
  );
}

/**
 * A publish without a reply. When Redis answered with an error (OOM, NOSCRIPT...) nothing was
 * written; when the connection broke first, the script may have run: the outcome is unknown and
 * only a retry with the same Idempotency-Key is safe. Both are 503 (never retried here).
 */
function publishFailed(err: unknown): BrokerError {
  if (isReplyError(err)) {
    // Only Redis' reason code (OOM, READONLY, BUSY...) reaches the publisher: the rest of the
    // reply names the script digest and line and server settings (logged instead).
    const code = /^[A-Z][A-Z_]*\b/.exec(errorText(err))?.[0] ?? 'ERR';
    return unavailable(`Redis refused the publish (${code}); nothing was published`, err);
  }
  return unavailable(
    'the Redis connection broke before the publish was confirmed; it may have been stored: ' +
      'retry with the same Idempotency-Key',
    err,
  );
}

/** redis-errors' ReplyError: Redis itself answered (ioredis types it as `any`). */
export function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

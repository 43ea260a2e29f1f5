import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Observable } from 'rxjs';
import { RedisConnections, type RedisClient, type RedisConnectionOptions } from '@herald/redis';
import { TopicIndex, type TopicFilter } from '@herald/topics';
import {
  Broker,
  type BrokerAttachment,
  type BrokerSink,
  type SubscribeOptions,
} from '../../broker.port';
import { BrokerError, BrokerErrorCode } from '../../broker.errors';
import type {
  BrokerMessage,
  BrokerStats,
  LatestEvents,
  PublishOptions,
  PublishRequest,
  PublishResult,
  ResetReason,
  TopicHistoryInfo,
} from '../../broker.types';
import {
  epochFingerprint,
  formatPartitionedCursor,
  formatRedisCursor,
  parsePartitionedCursor,
  parseRedisCursor,
  type RedisCursor,
} from './redis.keys';
import { HistoryPolicies, type HistoryPolicyRule } from '../../history.policies';
import { readLatest } from './redis.latest';
import { LivePartition, RedisLivePump, type LiveTarget } from './redis.live-pump';
import { RedisKeyspace } from './redis.partitions';
import { RedisPublisher, errorText } from './redis.publisher';
import { RedisReplayReader, splitId, type SeqEvent } from './redis.replay';
import { seqEvent } from './redis.stream-reader';
import {
  RedisSubscription,
  type CursorContext,
  type PartitionPosition,
  type SubscriptionSink,
} from './redis.subscription';

/** Options of the Redis adapter. */
export interface RedisBrokerOptions {
  /** Where Redis is: one node, Cluster or Sentinel. */
  readonly redis: RedisConnectionOptions;
  /** Prefix of every key and channel (default `herald:`); tests use unique prefixes. */
  readonly keyPrefix?: string;
  /** Retained events per topic (HISTORY_SIZE). */
  readonly historySize: number;
  /** Maximum age of retained events and idempotency records, in ms (HISTORY_TTL_S). */
  readonly historyTtlMs: number;
  /** Per-topic size and age (HISTORY_POLICIES), first match wins; others get the two above. */
  readonly historyPolicies?: readonly HistoryPolicyRule[];
  /** How often the instance checks the counters to catch silent pub/sub losses (1000). */
  readonly syncIntervalMs?: number;
  /**
   * Replicas that must confirm each publish (`WAIT`) before it succeeds (default 0). When fewer
   * confirm within `replicasAckTimeoutMs` the publish fails as unavailable.
   */
  readonly minReplicasAck?: number;
  /** How long a publish waits for the replicas, in ms (default 1000). */
  readonly replicasAckTimeoutMs?: number;
  /**
   * Write partitions (REDIS_PARTITIONS, 1..16, default 1). Each has its own sequence, keys in its
   * own hash slot and its own sharded channel; 1 keeps one global order and today's cursors.
   */
  readonly partitions?: number;
}

/** Consecutive sync ticks without pub/sub progress before the subscriber is reconnected. */
const STALL_TICKS = 3;

/** How a resume position was known (see {@link RedisBroker.resumePartition}). */
type ResumeStart = 'exact' | 'lower-bound' | 'time';

/** What a resume round ended with. */
type RoundOutcome =
  { kind: 'events'; at: RedisCursor } | { kind: 'reset'; reason: ResetReason; at: RedisCursor };

/**
 * Redis adapter: history in one bounded Stream per topic, and per write partition a consecutive
 * sequence, so one cursor covers any set of topics on any instance. Live fan-out goes through one
 * channel per partition (one Redis subscription per instance, local {@link TopicIndex} fan-out);
 * with several partitions an instance listens only to the partitions its subscriptions touch. A
 * gap in a partition's sequence (missed pub/sub message) is backfilled from the streams, or the
 * affected streams are reset.
 *
 * Parts: {@link RedisPublisher} (the publish script, once per partition), {@link RedisReplayReader}
 * (history for resumes), {@link RedisLivePump} (live events in order, gap backfill), and
 * {@link RedisSubscription} (positions and ids of one subscription).
 */
export class RedisBroker extends Broker implements LiveTarget {
  private readonly logger = new Logger(RedisBroker.name);
  /** Topic -> partition -> keys: the one naming function (also for other readers of history). */
  readonly keyspace: RedisKeyspace;
  /** Commands: no offline queue, so publish and ping fail fast while Redis is away. */
  private readonly cmd: RedisClient;
  /** The one pub/sub subscription of this instance. */
  private readonly sub: RedisClient;
  private readonly index = new TopicIndex<RedisSubscription>();
  private readonly subscriptions = new Set<RedisSubscription>();
  private readonly parts: LivePartition[];
  private readonly pump: RedisLivePump;
  private readonly publisher: RedisPublisher;
  private readonly readers: RedisReplayReader[];
  /** History size and age per topic (HISTORY_POLICIES). */
  readonly policies: HistoryPolicies;
  private readonly channels = new Map<string, number>();
  /** Local subscriptions touching each partition (several partitions only). */
  private readonly refs: number[];
  /** Partition subscriptions in progress (baseline, then SSUBSCRIBE), by partition. */
  private readonly pending = new Map<number, Promise<void>>();
  /** Digest of every partition's epoch (several partitions; undefined until all are known). */
  private fp: string | undefined;
  private readonly context: CursorContext;
  private readonly syncTimer: NodeJS.Timeout;
  private stalledTicks = 0;
  private knownTopics = 0;
  private closed = false;

  constructor(options: RedisBrokerOptions) {
    super();
    this.keyspace = new RedisKeyspace(options.keyPrefix, options.partitions ?? 1);
    const count = this.keyspace.count;
    const connections = new RedisConnections(options.redis);
    // Commands are never resent after a reconnect (the provider's `commands` role): the publish
    // script may have run before the connection dropped, and a second run would store and
    // deliver its events twice. The publisher gets 503 and may retry with its Idempotency-Key.
    // A stalled Redis (no reply, connection open) fails a command after 5 s instead of never.
    this.cmd = connections.create('commands', { name: 'herald-cmd', commandTimeoutMs: 5000 });
    this.sub = connections.create('subscriber', { name: 'herald-sub', sharded: true });
    this.parts = this.keyspace.partitions.map((keys, i) => new LivePartition(i, keys));
    this.parts.forEach((p) => this.channels.set(p.keys.channel, p.index));
    this.refs = new Array<number>(count).fill(0);
    this.policies = new HistoryPolicies(options.historyPolicies ?? [], {
      size: options.historySize,
      ttlMs: options.historyTtlMs,
    });
    this.readers = this.keyspace.partitions.map(
      (keys, i) => new RedisReplayReader(this.cmd, keys, this.policies, i),
    );
    this.pump = new RedisLivePump(this.cmd, this.parts, this, this.logger);
    this.publisher = new RedisPublisher(
      this.cmd,
      this.keyspace,
      { ...options, policies: this.policies },
      this.logger,
    );
    this.context = {
      count,
      fingerprint: () => this.fp ?? '0000',
      current: () => this.current(),
    };
    // One partition: the instance always listens to it (today's behaviour).
    if (count === 1) this.parts[0].subscribed = true;
    this.cmd.on('error', (err: Error) => this.logger.debug(`redis: ${err.message}`));
    this.sub.on('error', (err: Error) => this.logger.debug(`redis sub: ${err.message}`));
    let lost = false;
    this.cmd.on('close', () => {
      if (!lost && !this.closed) this.logger.warn('Redis connection lost: publish answers 503');
      lost = true;
    });
    this.cmd.on('ready', () => {
      if (lost) this.logger.log('Redis connection restored');
      lost = false;
      this.publisher.detectShardedPubSub();
      if (count > 1) void this.loadEpochs();
      for (const p of this.parts) if (p.subscribed) this.pump.sync(p.index);
    });
    this.sub.on('ready', () => {
      // Idempotent: also heals a subscription lost without the client noticing.
      for (const p of this.parts) {
        if (!p.subscribed) continue;
        this.listen(p.keys.channel).catch((err: unknown) => {
          this.logger.warn(`subscribe failed (retried on reconnect): ${errorText(err)}`);
        });
        this.pump.sync(p.index);
      }
    });
    this.sub.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    this.sub.on('smessage', (channel: string, message: string) => this.onMessage(channel, message));
    this.syncTimer = setInterval(() => this.tick(), options.syncIntervalMs ?? 1000);
    this.syncTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pump.close();
    clearInterval(this.syncTimer);
    for (const sub of [...this.subscriptions]) sub.sink.complete();
    this.sub.disconnect();
    this.cmd.disconnect();
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- publish

  async publish(
    events: readonly PublishRequest[],
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    if (events.length === 0) return { ids: [], duplicate: false };
    if (this.keyspace.count > 1 && this.fp === undefined) await this.loadEpochs();
    const batch = await this.publisher.publish(events, options);
    if (this.keyspace.count === 1) {
      const first = batch.positions[0];
      if (first !== undefined) this.parts[0].epoch ??= first.epoch;
      return {
        ids: batch.positions.map((p) => formatRedisCursor(p.epoch, p.ms, p.seq)),
        duplicate: batch.duplicate,
      };
    }
    for (const p of batch.positions) this.pump.adoptEpoch(this.parts[p.partition], p.epoch);
    const fp = this.context.fingerprint();
    const empty = new Array<number | undefined>(this.keyspace.count).fill(undefined);
    const ids = batch.positions.map((p) => {
      const seqs = [...empty];
      seqs[p.partition] = p.seq;
      return formatPartitionedCursor(fp, seqs, p.partition, p.ms);
    });
    return { ids, duplicate: batch.duplicate };
  }

  // ---------------------------------------------------------------- subscribe

  subscribe(
    filters: readonly TopicFilter[],
    options: SubscribeOptions = {},
  ): Observable<BrokerMessage> {
    return new Observable<BrokerMessage>((subscriber) => {
      const sub = this.open(filters, options, {
        get closed() {
          return subscriber.closed;
        },
        next: (m) => subscriber.next(m),
        complete: () => subscriber.complete(),
        hasRoom: () => true,
      });
      return () => sub.unsubscribe();
    });
  }

  /** Direct delivery to `sink`, with its flow control pacing the replay. */
  override attach(
    filters: readonly TopicFilter[],
    options: SubscribeOptions,
    sink: BrokerSink,
  ): BrokerAttachment {
    let done = false;
    try {
      const sub = this.open(filters, options, {
        get closed() {
          return done;
        },
        next: (m) => sink.next(m),
        complete: () => {
          done = true;
          sink.complete();
        },
        hasRoom: () => sink.hasRoom?.() ?? true,
      });
      return {
        unsubscribe: () => {
          done = true;
          sub.unsubscribe();
        },
        resume: () => sub.resume(),
      };
    } catch (err) {
      sink.error(err);
      return { unsubscribe: () => undefined };
    }
  }

  /** Partitions `filters` can match: a concrete topic's own, all of them for a pattern. */
  private touchedBy(filters: readonly TopicFilter[]): number[] {
    if (this.keyspace.count === 1) return [0];
    if (filters.some((f) => f.kind === 'pattern')) return this.parts.map((p) => p.index);
    return [...new Set(filters.map((f) => this.keyspace.partitionOf(f.raw)))].sort((a, b) => a - b);
  }

  /**
   * Registers live (buffering while it replays), then resumes after the cursor.
   * @throws BrokerError `malformed-cursor`.
   */
  private open(
    filters: readonly TopicFilter[],
    options: SubscribeOptions,
    sink: SubscriptionSink,
  ): RedisSubscription {
    const text = options.cursor;
    if (text !== undefined && !this.isWellFormedCursor(text)) {
      throw new BrokerError(BrokerErrorCode.MalformedCursor, 'malformed cursor');
    }
    const touched = this.touchedBy(filters);
    const sub = new RedisSubscription(filters, sink, touched, this.context);
    for (const f of filters) this.index.add(f, sub);
    this.subscriptions.add(sub);
    if (this.keyspace.count > 1) for (const q of touched) this.retain(q);
    sub.teardown = () => {
      for (const f of filters) this.index.delete(f, sub);
      this.subscriptions.delete(sub);
      if (this.keyspace.count > 1) for (const q of touched) this.release(q);
    };
    if (text === undefined) return sub;
    if (this.keyspace.count === 1) {
      const cursor = parseRedisCursor(text);
      // Buffer live events from now on: the replay hands them on after the history.
      sub.parts[0]!.buffer = [];
      if (cursor) void this.resumePartition(sub, 0, cursor, 'exact');
      // A partitioned cursor (REDIS_PARTITIONS was changed): a documented reset.
      else void this.resetThenLive(sub, 'unknown-cursor');
      return sub;
    }
    const cursor = parsePartitionedCursor(text);
    for (const q of touched) {
      if (cursor === undefined || cursor.seqs[q] !== undefined || cursor.ms !== undefined) {
        sub.parts[q]!.buffer = [];
      }
    }
    void this.resumeAll(sub, cursor === undefined ? undefined : cursor.seqs, cursor);
    return sub;
  }

  /** A partitioned resume: checks the cursor's partition count and epochs, then each partition. */
  private async resumeAll(
    sub: RedisSubscription,
    seqs: readonly (number | undefined)[] | undefined,
    cursor: ReturnType<typeof parsePartitionedCursor>,
  ): Promise<void> {
    for (let attempt = 0; this.fp === undefined && !sub.closed && !this.closed; attempt++) {
      await this.loadEpochs();
      if (this.fp === undefined) await sleep(Math.min(250 * (attempt + 1), 1000));
    }
    if (sub.closed || this.closed) return;
    if (
      seqs === undefined ||
      cursor === undefined ||
      cursor.partitions !== this.keyspace.count ||
      cursor.fingerprint !== this.fp
    ) {
      // Another partition count (REDIS_PARTITIONS changed), or a partition lost its data.
      await this.resetThenLive(sub, 'unknown-cursor');
      return;
    }
    await Promise.all(
      sub.touched().map((q) => {
        const seq = seqs[q];
        const epoch = this.parts[q].epoch ?? '0';
        if (seq === undefined) {
          // Not in the cursor: from the own event's time (an id returned by publish), or live.
          if (cursor.ms === undefined) return Promise.resolve();
          return this.resumePartition(sub, q, { epoch, ms: cursor.ms, seq: 0 }, 'time');
        }
        return this.clockLowerBound(q, seq).then((ms) =>
          this.resumePartition(sub, q, { epoch, ms, seq }, 'lower-bound'),
        );
      }),
    );
  }

  /** The cursor means nothing here: one reset at every touched partition's head, then live. */
  private async resetThenLive(sub: RedisSubscription, reason: ResetReason): Promise<void> {
    for (let attempt = 0; !sub.closed && !this.closed; attempt++) {
      try {
        const touched = sub.touched();
        for (const q of touched) {
          const pos = sub.parts[q]!;
          pos.buffer = [];
          pos.overflowed = false;
        }
        await Promise.all(touched.map((q) => this.pending.get(q) ?? Promise.resolve()));
        const snaps = await Promise.all(touched.map((q) => this.readers[q].snapshot()));
        if (sub.closed) return;
        touched.forEach((q, i) => {
          const pos = sub.parts[q]!;
          pos.maxSeq = snaps[i].at.seq;
          pos.lastMs = snaps[i].at.ms;
        });
        if (this.keyspace.count === 1) {
          const at = snaps[0];
          sub.reset(reason, formatRedisCursor(at.epoch ?? '0', at.at.ms, at.at.seq));
        } else {
          sub.reset(reason, sub.cursor());
        }
        sub.resetSent = true;
        const live = await Promise.all(
          touched.map((q) => this.drainLiveBuffer(sub, sub.parts[q]!)),
        );
        if (live.every(Boolean) || sub.closed) return;
        // A buffer overflowed: read what it dropped from history, from the reset's position.
        await Promise.all(
          touched.map((q, i) =>
            this.resumePartition(
              sub,
              q,
              { epoch: snaps[i].epoch ?? '0', ms: snaps[i].at.ms, seq: snaps[i].at.seq },
              'exact',
            ),
          ),
        );
        return;
      } catch (err) {
        if (attempt === 0) this.logger.warn(`reset failed, retrying: ${errorText(err)}`);
        await sleep(Math.min(250 * (attempt + 1), 1000));
      }
    }
  }

  /**
   * A lower bound of the time of sequence `seq` in partition `q`, from its clock (the first event
   * of each second): partitioned cursors carry sequences only. 0 when unknown (read from the start).
   */
  private async clockLowerBound(q: number, seq: number): Promise<number> {
    if (seq === 0) return 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const [member] = await this.cmd.zrevrangebyscore(
          this.parts[q].keys.clock,
          seq,
          '-inf',
          'LIMIT',
          0,
          1,
        );
        return member === undefined ? 0 : Number(member.slice(member.indexOf(':') + 1));
      } catch {
        await sleep(250 * (attempt + 1));
      }
    }
    return 0;
  }

  async latest(filters: readonly TopicFilter[], maxTopics: number): Promise<LatestEvents> {
    if (this.cmd.status !== 'ready') throw unavailable('Redis is not connected');
    try {
      if (this.keyspace.count === 1) {
        return await readLatest(
          this.cmd,
          this.parts[0].keys,
          filters,
          maxTopics,
          this.policies.maxTtlMs,
        );
      }
      // Several partitions: one consistent read (MULTI) per partition touched; the cursor holds
      // each partition's head, and each event's id its own sequence there.
      if (this.fp === undefined) await this.loadEpochs();
      const touched = this.touchedBy(filters);
      const reads = await Promise.all(
        touched.map((q) =>
          readLatest(
            this.cmd,
            this.parts[q].keys,
            filters.filter((f) => f.kind === 'pattern' || this.keyspace.partitionOf(f.raw) === q),
            maxTopics,
            this.policies.maxTtlMs,
          ),
        ),
      );
      const heads = new Array<number | undefined>(this.keyspace.count).fill(undefined);
      reads.forEach((r, i) => {
        const c = r.cursor === undefined ? undefined : parseRedisCursor(r.cursor);
        heads[touched[i]] = c?.seq ?? 0;
      });
      const fp = this.context.fingerprint();
      const events = reads
        .flatMap((r, i) => r.events.map((e) => ({ e, q: touched[i] })))
        .sort((a, b) => b.e.ms - a.e.ms)
        .slice(0, maxTopics)
        .reverse()
        .map(({ e, q }) => {
          const seqs = [...heads];
          seqs[q] = e.seq;
          return { ...e, partition: q, id: formatPartitionedCursor(fp, seqs, q) };
        });
      return { events, cursor: formatPartitionedCursor(fp, heads) };
    } catch (err) {
      throw unavailable(`reading the latest events failed: ${errorText(err)}`, err);
    }
  }

  isWellFormedCursor(cursor: string): boolean {
    return parseRedisCursor(cursor) !== undefined || parsePartitionedCursor(cursor) !== undefined;
  }

  nowCursor(): string {
    if (this.keyspace.count === 1) {
      const p = this.parts[0];
      return formatRedisCursor(p.epoch ?? '0', p.lastMs, p.lastSeq);
    }
    return formatPartitionedCursor(this.context.fingerprint(), this.current());
  }

  /** The instance's position in each partition it listens to. */
  private current(): (number | undefined)[] {
    return this.parts.map((p) => (p.subscribed && p.baselineKnown ? p.lastSeq : undefined));
  }

  async ping(): Promise<void> {
    if (this.pending.size > 0) await Promise.all([...this.pending.values()]);
    if (this.cmd.status !== 'ready' || this.sub.status !== 'ready') {
      throw unavailable('Redis is not connected');
    }
    if (this.keyspace.count > 1 && this.fp === undefined) await this.loadEpochs();
    for (const p of this.parts) {
      if (p.subscribed && !p.baselineKnown) await this.pump.loadBaseline(p);
    }
    if (
      this.parts.some((p) => p.subscribed && !p.baselineKnown) ||
      (this.keyspace.count > 1 && this.fp === undefined)
    ) {
      throw unavailable('Redis is not connected');
    }
    try {
      await this.cmd.ping();
    } catch (err) {
      throw unavailable(`Redis did not answer: ${errorText(err)}`, err);
    }
  }

  stats(): BrokerStats {
    return { subscriptions: this.subscriptions.size, topics: this.knownTopics };
  }

  override async topicHistory(topic: string): Promise<TopicHistoryInfo> {
    const policy = this.policies.of(topic);
    let retained: number;
    try {
      // Entries within the policy's age, at most its size (trimming is approximate: `~`); past
      // 10,000 the stream's length (capped at the size) instead of reading the entries.
      const key = this.keyspace.stream(topic);
      retained =
        policy.size > 10_000
          ? Math.min(policy.size, await this.cmd.xlen(key))
          : (
              await this.cmd.xrange(
                key,
                String(Date.now() - policy.ttlMs),
                '+',
                'COUNT',
                policy.size,
              )
            ).length;
    } catch (err) {
      throw unavailable(`Redis did not answer: ${errorText(err)}`, err);
    }
    return {
      topic,
      policy: { pattern: policy.pattern, size: policy.size, ttlSeconds: policy.ttlMs / 1000 },
      retained,
    };
  }

  /**
   * Replays what followed `cursor` in partition `q` (retrying while Redis is away), paced by the
   * sink's room, then goes live there. Rounds: snapshot the head, merge the partition's topics'
   * pages up to it, then hand on the live events buffered meanwhile; when that buffer overflowed,
   * the next round reads them from history. `start`: `exact` (the cursor's ms is its event's),
   * `lower-bound` (a lower bound from the clock) or `time` (no sequence: every event at or after
   * the cursor's ms).
   */
  private async resumePartition(
    sub: RedisSubscription,
    q: number,
    cursor: RedisCursor,
    start: ResumeStart,
  ): Promise<void> {
    const pp = sub.parts[q]!;
    let pos = cursor;
    let exact = start;
    pp.maxSeq = cursor.seq;
    pp.lastMs = cursor.ms;
    let round = 0;
    for (let attempt = 0; !sub.closed && !this.closed; attempt++) {
      try {
        for (; ; round++) {
          pp.buffer = [];
          pp.overflowed = false;
          const epochBefore = this.parts[q].epoch;
          const outcome = await this.replayRound(sub, q, pos, exact);
          if (sub.closed) return;
          if (epochBefore !== undefined && this.parts[q].epoch !== epochBefore) {
            // Redis lost its data while this round ran (the new epoch reset every local stream):
            // what the round read and its head belong to the old key space. The next round
            // starts from that head, which it resets to the new key space's head.
            pos = outcome.at;
            exact = 'exact';
            continue;
          }
          if (outcome.kind === 'reset') {
            // Events up to the reset cursor belong to the state the client refetches. An unknown
            // cursor (another epoch: Redis lost its data; or ahead of the head) says nothing about
            // this key space's sequence: the position is the head, or the new epoch's events
            // below the old cursor's sequence would be dropped as already sent.
            if (outcome.reason === 'unknown-cursor') {
              pp.maxSeq = outcome.at.seq;
              pp.lastMs = outcome.at.ms;
            } else {
              pp.maxSeq = Math.max(pp.maxSeq, outcome.at.seq);
              pp.lastMs = Math.max(pp.lastMs, outcome.at.ms);
            }
            // Several partitions: one reset covers every partition's gap found by the cursor.
            if (this.keyspace.count === 1) {
              sub.reset(
                outcome.reason,
                formatRedisCursor(outcome.at.epoch, outcome.at.ms, outcome.at.seq),
              );
            } else if (round > 0 || !sub.resetSent) {
              sub.resetSent = true;
              sub.reset(outcome.reason, sub.cursor());
            }
          } else if (outcome.at.seq > pp.maxSeq) {
            // Every matching event up to `at` was in the replay (the subscription was live before
            // `at` was read); later ones come from the live buffer.
            pp.maxSeq = outcome.at.seq;
            pp.lastMs = outcome.at.ms;
          }
          if (await this.drainLiveBuffer(sub, pp)) return;
          if (sub.closed) return;
          pos = { epoch: outcome.at.epoch, ms: pp.lastMs, seq: pp.maxSeq };
          exact = 'exact';
        }
      } catch (err) {
        if (attempt === 0) this.logger.warn(`replay failed, retrying: ${errorText(err)}`);
        await sleep(Math.min(250 * (attempt + 1), 1000));
      }
    }
  }

  /** Hands on a partition's buffered live events as the sink takes them; true once live. */
  private async drainLiveBuffer(sub: RedisSubscription, pp: PartitionPosition): Promise<boolean> {
    for (;;) {
      const buffer = pp.buffer;
      if (sub.closed || buffer === undefined || pp.overflowed) return false;
      if (buffer.length === 0) {
        pp.buffer = undefined;
        return true;
      }
      const wait = sub.room();
      if (wait !== undefined) {
        await wait;
        continue;
      }
      const next = buffer.shift();
      if (next !== undefined) sub.emit(next);
    }
  }

  /** One replay round of partition `q` from `pos` to the head read now. */
  private async replayRound(
    sub: RedisSubscription,
    q: number,
    pos: RedisCursor,
    start: ResumeStart,
  ): Promise<RoundOutcome> {
    if (this.cmd.status !== 'ready') throw unavailable('Redis is not connected');
    // A partition this instance just started to listen to: its baseline first, so that every
    // event after this snapshot reaches the live buffer (none falls between the two).
    await this.pending.get(q);
    const reader = this.readers[q];
    const snap = await reader.snapshot();
    const epoch = snap.epoch;
    const at: RedisCursor = { epoch: epoch ?? this.parts[q].epoch ?? '0', ...snap.at };
    if (epoch === null || epoch !== pos.epoch || pos.seq > at.seq) {
      if (epoch !== null && this.keyspace.count > 1) this.pump.adoptEpoch(this.parts[q], epoch);
      return { kind: 'reset', reason: 'unknown-cursor', at };
    }
    // With a lower bound only, the position's second's end is an upper bound of its time.
    const upperMs = start === 'lower-bound' ? Math.floor(pos.ms / 1000) * 1000 + 999 : pos.ms;
    if (snap.forgottenMs !== undefined && upperMs < snap.forgottenMs) {
      return { kind: 'reset', reason: 'history-expired', at };
    }
    const filters =
      this.keyspace.count === 1
        ? sub.filters
        : sub.filters.filter((f) => f.kind === 'pattern' || this.keyspace.partitionOf(f.raw) === q);
    const topics = await reader.candidateTopics(filters, pos.ms, at.seq);
    if (topics === undefined) return { kind: 'reset', reason: 'history-expired', at };
    const merged = await reader.merge(sub, topics, pos, at, epoch, start === 'time');
    if (merged === 'expired') return { kind: 'reset', reason: 'history-expired', at };
    return { kind: 'events', at };
  }

  // ---------------------------------------------------------------- partitions listened to

  /** One more local subscription touches partition `q`: listen to it from the first. */
  private retain(q: number): void {
    if (this.refs[q]++ > 0) return;
    const part = this.parts[q];
    part.subscribed = true;
    part.baselineKnown = false;
    // The head first, then the channel: events published in between are backfilled on the next
    // event or sync tick, never skipped.
    const job = this.pump
      .loadBaseline(part)
      .then(() => (part.subscribed ? this.listen(part.keys.channel) : undefined))
      .then(() => this.pump.sync(q))
      .catch((err: unknown) => this.logger.warn(`subscribe failed (retried): ${errorText(err)}`))
      .finally(() => {
        if (this.pending.get(q) === job) this.pending.delete(q);
      });
    this.pending.set(q, job);
  }

  /** The last local subscription touching partition `q` ended: stop listening to it. */
  private release(q: number): void {
    if (--this.refs[q] > 0) return;
    const part = this.parts[q];
    part.subscribed = false;
    part.baselineKnown = false;
    const channel = part.keys.channel;
    this.sub.sunsubscribe(channel).catch(() => undefined);
    this.sub.unsubscribe(channel).catch(() => undefined);
  }

  /** SUBSCRIBE and SSUBSCRIBE (publishers on Redis >= 7 use SPUBLISH; mixed versions interoperate). */
  private async listen(channel: string): Promise<void> {
    await this.sub.subscribe(channel);
    await this.sub.ssubscribe(channel).catch(() => undefined);
  }

  /** Reads (creating where missing) every partition's epoch; sets the cursor fingerprint. */
  private async loadEpochs(): Promise<void> {
    if (this.cmd.status !== 'ready') return;
    try {
      const epochs = await Promise.all(
        this.parts.map(async (p) => {
          const candidate = randomBytes(6).readUIntBE(0, 6).toString(36);
          await this.cmd.set(p.keys.epoch, candidate, 'NX');
          return this.cmd.get(p.keys.epoch);
        }),
      );
      epochs.forEach((e, i) => e !== null && this.pump.adoptEpoch(this.parts[i], e));
    } catch (err) {
      this.logger.debug(`epochs not read: ${errorText(err)}`);
    }
  }

  // ---------------------------------------------------------------- live path (LiveTarget)

  private onMessage(channel: string, message: string): void {
    const partition = this.channels.get(channel);
    if (partition === undefined) return;
    const parsed = parseLive(message, partition);
    if (!parsed) return;
    this.pump.event(parsed.event, parsed.epoch);
  }

  /** @internal Fans a live event out (called by the pump, in sequence order per partition). */
  dispatch(event: SeqEvent): void {
    let e = event;
    if (this.keyspace.count > 1) {
      // One id for every local subscriber: the instance's position in every partition.
      const vector = this.current();
      e = {
        ...event,
        id: formatPartitionedCursor(this.context.fingerprint(), vector, event.partition),
        vector,
      };
    }
    this.index.forEachMatch(e.topic, (sub) => sub.deliver(e));
  }

  /** @internal */
  hasLocalSubscriber(topic: string): boolean {
    let found = false;
    this.index.forEachMatch(topic, () => (found = true));
    return found;
  }

  /** @internal Resets the local subscriptions that lost events of `partition`. */
  reset(partition: number, reason: ResetReason, topics?: readonly string[], toSeq?: number): void {
    const part = this.parts[partition];
    if (topics === undefined) {
      const cursor = this.nowCursor();
      for (const sub of this.subscriptions) {
        const pos = sub.parts[partition];
        if (pos === undefined) continue;
        if (this.keyspace.count === 1) {
          pos.maxSeq = 0;
          sub.reset(reason, cursor);
        } else {
          pos.maxSeq = part.lastSeq;
          sub.reset(reason, sub.cursor());
        }
      }
      return;
    }
    const seen = new Set<RedisSubscription>();
    const to = toSeq ?? part.lastSeq;
    for (const topic of topics) {
      this.index.forEachMatch(topic, (sub) => {
        if (seen.has(sub)) return;
        seen.add(sub);
        const pos = sub.parts[partition];
        if (pos === undefined) return;
        pos.maxSeq = Math.max(pos.maxSeq, to);
        sub.reset(
          reason,
          this.keyspace.count === 1
            ? formatRedisCursor(part.epoch ?? '0', part.lastMs, to)
            : sub.cursor(),
        );
      });
    }
  }

  /** @internal A partition's epoch became known or changed: the cursor fingerprint follows. */
  epochChanged(): void {
    if (this.keyspace.count === 1) return;
    const epochs: string[] = [];
    for (const p of this.parts) {
      if (p.epoch === undefined) {
        this.fp = undefined;
        return;
      }
      epochs.push(p.epoch);
    }
    this.fp = epochFingerprint(epochs);
  }

  /** Detects a silent pub/sub loss: a counter moved but nothing arrived. */
  private tick(): void {
    if (this.closed || this.cmd.status !== 'ready') return;
    if (this.keyspace.count > 1) void this.loadEpochs();
    const listened = this.parts.filter((p) => p.subscribed);
    // A baseline read that failed (e.g. a Cluster node connection closed at start) is retried.
    for (const p of listened) if (!p.baselineKnown) this.pump.sync(p.index);
    Promise.all(listened.map((p) => this.cmd.get(p.keys.last)))
      .then((lasts) => {
        let stalled = false;
        listened.forEach((p, i) => {
          const last = lasts[i];
          const remote = last ? splitId(last)[1] : 0;
          if (p.baselineKnown && p.lastSeq < p.lastRemoteSeq) {
            // Behind what was already in Redis a tick ago: pub/sub did not bring it.
            stalled = true;
            this.pump.sync(p.index);
          }
          p.lastRemoteSeq = remote;
        });
        if (stalled) {
          this.stalledTicks++;
          if (this.stalledTicks >= STALL_TICKS) {
            this.logger.warn('pub/sub stalled: reconnecting the subscriber');
            this.stalledTicks = 0;
            this.sub.disconnect(true);
          }
        } else {
          this.stalledTicks = 0;
        }
        return Promise.all(this.parts.map((p) => this.cmd.zcard(p.keys.topics)));
      })
      .then((n) => (this.knownTopics = n.reduce((a, b) => a + b, 0)))
      .catch(() => undefined);
  }
}

function unavailable(message: string, cause?: unknown): BrokerError {
  return new BrokerError(BrokerErrorCode.Unavailable, message, { cause });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Parses `epoch\nseq\nms\ntopic\ntype\ntraceparent\ndata`. */
function parseLive(
  message: string,
  partition: number,
): { epoch: string; event: SeqEvent } | undefined {
  const parts: string[] = [];
  let at = 0;
  for (let i = 0; i < 6; i++) {
    const nl = message.indexOf('\n', at);
    if (nl < 0) return undefined;
    parts.push(message.slice(at, nl));
    at = nl + 1;
  }
  const [epoch, seqText, msText, topic, type, traceparent] = parts;
  const seq = Number(seqText);
  const ms = Number(msText);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(ms)) return undefined;
  return {
    epoch,
    event: seqEvent(epoch, partition, seq, ms, topic, type, message.slice(at), traceparent),
  };
}

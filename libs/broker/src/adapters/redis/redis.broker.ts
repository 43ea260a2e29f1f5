import { createHash, randomBytes } from 'node:crypto';
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
} from '../../broker.types';
import {
  RedisKeys,
  formatRedisCursor,
  parseRedisCursor,
  streamId,
  type RedisCursor,
} from './redis.keys';
import { readLatest } from './redis.latest';
import { PUBLISH_SCRIPT } from './redis.publish.script';
import {
  RedisReplayReader,
  compareIds,
  fieldOf,
  splitId,
  toEvent,
  type SeqEvent,
} from './redis.replay';

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
  /** How often the instance checks the global counter to catch silent pub/sub losses (1000). */
  readonly syncIntervalMs?: number;
  /**
   * Replicas that must confirm each publish (`WAIT`) before it succeeds (default 0). When fewer
   * confirm within `replicasAckTimeoutMs` the publish fails as unavailable.
   */
  readonly minReplicasAck?: number;
  /** How long a publish waits for the replicas, in ms (default 1000). */
  readonly replicasAckTimeoutMs?: number;
}

/** Largest gap the instance backfills from the streams; beyond it, local streams are reset. */
const MAX_BACKFILL = 100_000;
/** Entries per XRANGE page. */
const PAGE = 500;
/** Consecutive sync ticks without pub/sub progress before the subscriber is reconnected. */
const STALL_TICKS = 3;
/** Recently dispatched sequences remembered to recognise a sequence reused after a failover. */
const RECENT_SEQS = 4096;

/** Live events one resume buffers while it replays; past it, it reads them from history. */
const MAX_REPLAY_LIVE_BUFFER = 1024;

/** What a subscription delivers to: an rxjs Subscriber or an attached sink. */
interface SubscriptionSink {
  readonly closed: boolean;
  next(message: BrokerMessage): void;
  complete(): void;
  hasRoom(): boolean;
}

class RedisSubscription implements BrokerAttachment {
  /** Highest sequence handed to the subscriber, and its ms. */
  maxSeq = 0;
  lastMs = 0;
  /** Live events held while the replay runs; `undefined` once live. */
  buffer: SeqEvent[] | undefined;
  /** The buffer passed {@link MAX_REPLAY_LIVE_BUFFER}: its events are read from history. */
  overflowed = false;
  teardown: (() => void) | undefined;
  private waiting: (() => void) | undefined;
  private stopped = false;

  constructor(
    readonly filters: readonly TopicFilter[],
    readonly sink: SubscriptionSink,
    replaying: boolean,
  ) {
    if (replaying) this.buffer = [];
  }

  get closed(): boolean {
    return this.stopped || this.sink.closed;
  }

  deliver(event: SeqEvent): void {
    if (this.buffer) {
      if (this.overflowed) return;
      if (this.buffer.length >= MAX_REPLAY_LIVE_BUFFER) {
        this.buffer = [];
        this.overflowed = true;
        return;
      }
      this.buffer.push(event);
      return;
    }
    this.emit(event);
  }

  emit(event: SeqEvent): void {
    // Also drops the repeats when several filters of one subscription match.
    if (event.seq <= this.maxSeq || this.closed) return;
    this.maxSeq = event.seq;
    this.lastMs = event.ms;
    this.sink.next(event);
  }

  /** Resolves once the sink has room (undefined when it has now). */
  room(): Promise<void> | undefined {
    if (this.closed || this.sink.hasRoom()) return undefined;
    return new Promise<void>((resolve) => (this.waiting = resolve));
  }

  resume(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  reset(reason: ResetReason, cursor: string): void {
    if (!this.closed) this.sink.next({ kind: 'reset', reason, cursor });
  }

  unsubscribe(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.resume();
    const teardown = this.teardown;
    this.teardown = undefined;
    teardown?.();
  }
}

type LiveTask = { readonly kind: 'event'; readonly event: SeqEvent } | { readonly kind: 'sync' };

/**
 * Redis adapter: history in one bounded Stream per topic, a global consecutive sequence so one
 * cursor covers any set of topics on any instance, and live fan-out through one pub/sub channel
 * per instance (one Redis subscription, local {@link TopicIndex} fan-out). A gap in the sequence
 * (missed pub/sub message) is backfilled from the streams, or the affected streams are reset.
 */
export class RedisBroker extends Broker {
  private readonly logger = new Logger(RedisBroker.name);
  private readonly keys: RedisKeys;
  /** Commands: no offline queue, so publish and ping fail fast while Redis is away. */
  private readonly cmd: RedisClient;
  /** The one pub/sub subscription of this instance. */
  private readonly sub: RedisClient;
  private readonly index = new TopicIndex<RedisSubscription>();
  private readonly subscriptions = new Set<RedisSubscription>();
  /** Epoch of the key space as last seen (undefined until Redis answered once). */
  private epoch: string | undefined;
  /** Last event dispatched locally (ms, seq); every lower seq was dispatched or backfilled. */
  private lastMs = 0;
  private lastSeq = 0;
  private baselineKnown = false;
  private readonly queue: LiveTask[] = [];
  private pumping = false;
  private readonly scriptSha: string;
  /** SPUBLISH once the server is known to support sharded pub/sub (Redis >= 7). */
  private publishCommand: 'PUBLISH' | 'SPUBLISH' = 'PUBLISH';
  private readonly syncTimer: NodeJS.Timeout;
  private stalledTicks = 0;
  private lastRemoteSeq = 0;
  private knownTopics = 0;
  private readonly replays: RedisReplayReader;
  /** seq -> ms of recently dispatched events (sequence regression detection). */
  private readonly recent = new Map<number, number>();
  private closed = false;

  constructor(private readonly options: RedisBrokerOptions) {
    super();
    this.keys = new RedisKeys(options.keyPrefix);
    this.scriptSha = createHash('sha1').update(PUBLISH_SCRIPT).digest('hex');
    const connections = new RedisConnections(options.redis);
    // Commands are never resent after a reconnect (the provider's `commands` role): the publish
    // script may have run before the connection dropped, and a second run would store and
    // deliver its events twice. The publisher gets 503 and may retry with its Idempotency-Key.
    // A stalled Redis (no reply, connection open) fails a command after 5 s instead of never.
    this.cmd = connections.create('commands', { name: 'herald-cmd', commandTimeoutMs: 5000 });
    this.replays = new RedisReplayReader(
      this.cmd,
      this.keys,
      options.historySize,
      options.historyTtlMs,
    );
    this.sub = connections.create('subscriber', { name: 'herald-sub', sharded: true });
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
      this.detectShardedPubSub();
      this.enqueue({ kind: 'sync' });
    });
    this.sub.on('ready', () => {
      // Idempotent: also heals a subscription lost without the client noticing.
      this.sub.subscribe(this.keys.channel).catch((err: unknown) => {
        this.logger.warn(`subscribe failed (retried on reconnect): ${errorText(err)}`);
      });
      // Publishers on Redis >= 7 use SPUBLISH; listen to both so mixed versions interoperate.
      this.sub.ssubscribe(this.keys.channel).catch(() => undefined);
      this.enqueue({ kind: 'sync' });
    });
    this.sub.on('message', (_channel: string, message: string) => this.onMessage(message));
    this.sub.on('smessage', (_channel: string, message: string) => this.onMessage(message));
    this.syncTimer = setInterval(() => this.tick(), options.syncIntervalMs ?? 1000);
    this.syncTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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
    if (this.cmd.status !== 'ready') throw unavailable('Redis is not connected');
    const k = this.keys;
    const key = options.idempotencyKey;
    const keys = [
      k.seq,
      k.last,
      k.epoch,
      k.topics,
      k.forgotten,
      // Unused by the script without a key; any name in the same slot will do.
      key === undefined ? `${k.seq}:no-idem` : k.idempotency(key),
      ...events.map((e) => k.stream(e.topic)),
    ];
    const args: string[] = [
      String(events.length),
      // Taken only when the key space has no epoch yet (first publish, or Redis lost its data).
      randomBytes(6).readUIntBE(0, 6).toString(36),
      String(this.options.historySize),
      String(this.options.historyTtlMs),
      key === undefined ? '0' : '1',
      options.fingerprint ?? '',
      options.traceparent ?? '',
      k.channel,
      this.publishCommand,
    ];
    for (const e of events) args.push(e.topic, e.type, e.data);
    let reply: unknown;
    try {
      reply = await this.evalPublish(keys, args);
    } catch (err) {
      if (isReplyError(err)) this.logger.warn(`Redis refused a publish: ${errorText(err)}`);
      throw publishFailed(err);
    }
    const [status, a, b] = reply as [string, string, string?];
    if (status === 'dup') {
      const nl = a.indexOf('\n');
      const fingerprint = a.slice(0, nl);
      if (fingerprint !== (options.fingerprint ?? '')) {
        throw new BrokerError(
          BrokerErrorCode.IdempotencyConflict,
          'Idempotency-Key was already used with a different request',
        );
      }
      return { ids: a.slice(nl + 1).split(','), duplicate: true };
    }
    this.epoch ??= a;
    return { ids: (b ?? '').split(','), duplicate: false };
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

  private detectShardedPubSub(): void {
    this.cmd
      .info('server')
      .then((info) => {
        const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
        this.publishCommand = major >= 7 ? 'SPUBLISH' : 'PUBLISH';
      })
      .catch(() => undefined);
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

  /**
   * Registers live (buffering while it replays), then resumes after the cursor.
   * @throws BrokerError `malformed-cursor`.
   */
  private open(
    filters: readonly TopicFilter[],
    options: SubscribeOptions,
    sink: SubscriptionSink,
  ): RedisSubscription {
    let cursor: RedisCursor | undefined;
    if (options.cursor !== undefined) {
      cursor = parseRedisCursor(options.cursor);
      if (!cursor) throw new BrokerError(BrokerErrorCode.MalformedCursor, 'malformed cursor');
    }
    const sub = new RedisSubscription(filters, sink, cursor !== undefined);
    for (const f of filters) this.index.add(f, sub);
    this.subscriptions.add(sub);
    sub.teardown = () => {
      for (const f of filters) this.index.delete(f, sub);
      this.subscriptions.delete(sub);
    };
    if (cursor) void this.resume(sub, cursor);
    return sub;
  }

  async latest(filters: readonly TopicFilter[], maxTopics: number): Promise<LatestEvents> {
    if (this.cmd.status !== 'ready') throw unavailable('Redis is not connected');
    try {
      return await readLatest(this.cmd, this.keys, filters, maxTopics, this.options.historyTtlMs);
    } catch (err) {
      throw unavailable(`reading the latest events failed: ${errorText(err)}`, err);
    }
  }

  isWellFormedCursor(cursor: string): boolean {
    return parseRedisCursor(cursor) !== undefined;
  }

  nowCursor(): string {
    return formatRedisCursor(this.epoch ?? '0', this.lastMs, this.lastSeq);
  }

  async ping(): Promise<void> {
    if (this.cmd.status !== 'ready' || this.sub.status !== 'ready' || !this.baselineKnown) {
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

  /**
   * Replays what followed `cursor` (retrying while Redis is away), paced by the sink's room, then
   * goes live. Rounds: snapshot the head, merge the topics' pages up to it, then hand on the live
   * events buffered meanwhile; when that buffer overflowed, the next round reads them from history.
   */
  private async resume(sub: RedisSubscription, cursor: RedisCursor): Promise<void> {
    let pos = cursor;
    sub.maxSeq = cursor.seq;
    sub.lastMs = cursor.ms;
    for (let attempt = 0; !sub.closed && !this.closed; attempt++) {
      try {
        for (;;) {
          sub.buffer = [];
          sub.overflowed = false;
          const epochBefore = this.epoch;
          const outcome = await this.replayRound(sub, pos);
          if (sub.closed) return;
          if (epochBefore !== undefined && this.epoch !== epochBefore) {
            // Redis lost its data while this round ran (the new epoch reset every local stream):
            // what the round read and its head belong to the old key space. The next round
            // starts from that head, which it resets to the new key space's head.
            pos = outcome.at;
            continue;
          }
          if (outcome.kind === 'reset') {
            // Events up to the reset cursor belong to the state the client refetches. An unknown
            // cursor (another epoch: Redis lost its data; or ahead of the head) says nothing about
            // this key space's sequence: the position is the head, or the new epoch's events
            // below the old cursor's sequence would be dropped as already sent.
            if (outcome.reason === 'unknown-cursor') {
              sub.maxSeq = outcome.at.seq;
              sub.lastMs = outcome.at.ms;
            } else {
              sub.maxSeq = Math.max(sub.maxSeq, outcome.at.seq);
              sub.lastMs = Math.max(sub.lastMs, outcome.at.ms);
            }
            sub.reset(
              outcome.reason,
              formatRedisCursor(outcome.at.epoch, outcome.at.ms, outcome.at.seq),
            );
          } else {
            // Every matching event up to `at` was in the replay (the subscription was live before
            // `at` was read); later ones come from the live buffer.
            if (outcome.at.seq > sub.maxSeq) {
              sub.maxSeq = outcome.at.seq;
              sub.lastMs = outcome.at.ms;
            }
          }
          if (await this.drainLiveBuffer(sub)) return;
          if (sub.closed) return;
          pos = { epoch: outcome.at.epoch, ms: sub.lastMs, seq: sub.maxSeq };
        }
      } catch (err) {
        if (attempt === 0) this.logger.warn(`replay failed, retrying: ${errorText(err)}`);
        await sleep(Math.min(250 * (attempt + 1), 1000));
      }
    }
  }

  /** Hands on the buffered live events as the sink takes them; true once live. */
  private async drainLiveBuffer(sub: RedisSubscription): Promise<boolean> {
    for (;;) {
      const buffer = sub.buffer;
      if (sub.closed || buffer === undefined || sub.overflowed) return false;
      if (buffer.length === 0) {
        sub.buffer = undefined;
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

  /** One replay round from `pos` to the head read now. */
  private async replayRound(
    sub: RedisSubscription,
    pos: RedisCursor,
  ): Promise<
    { kind: 'events'; at: RedisCursor } | { kind: 'reset'; reason: ResetReason; at: RedisCursor }
  > {
    if (this.cmd.status !== 'ready') throw unavailable('Redis is not connected');
    const snap = await this.replays.snapshot();
    const epoch = snap.epoch;
    const at: RedisCursor = { epoch: epoch ?? this.epoch ?? '0', ...snap.at };
    if (epoch === null || epoch !== pos.epoch || pos.seq > at.seq) {
      return { kind: 'reset', reason: 'unknown-cursor', at };
    }
    if (snap.forgottenMs !== undefined && pos.ms < snap.forgottenMs) {
      return { kind: 'reset', reason: 'history-expired', at };
    }
    const topics = await this.replays.candidateTopics(sub.filters, pos.ms, at.seq);
    if (topics === undefined) return { kind: 'reset', reason: 'history-expired', at };
    const merged = await this.replays.merge(sub, topics, pos, at, epoch);
    if (merged === 'expired') return { kind: 'reset', reason: 'history-expired', at };
    return { kind: 'events', at };
  }

  // ---------------------------------------------------------------- live path

  private onMessage(message: string): void {
    const event = parseLive(message);
    if (!event) return;
    this.adoptEpoch(event.epoch);
    this.enqueue({ kind: 'event', event: event.event });
  }

  private enqueue(task: LiveTask): void {
    if (this.closed) return;
    this.queue.push(task);
    void this.pump();
  }

  /** Dispatches live events strictly in sequence order, backfilling any gap first. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        if (!this.baselineKnown && !(await this.loadBaseline())) return;
        const task = this.queue[0];
        if (task.kind === 'sync') {
          await this.syncToRemote();
        } else {
          const e = task.event;
          const seen = this.recent.get(e.seq);
          if (seen !== undefined && seen !== e.ms) this.onRegression(e.ms, e.seq - 1);
          if (e.seq > this.lastSeq + 1) await this.backfill(e.seq - 1);
          if (e.seq > this.lastSeq) this.dispatch(e);
        }
        this.queue.shift();
      }
    } catch (err) {
      this.logger.warn(`live path: ${errorText(err)}`);
    } finally {
      this.pumping = false;
    }
  }

  private async loadBaseline(): Promise<boolean> {
    if (this.cmd.status !== 'ready') return false;
    try {
      const [epoch, last] = await this.cmd.mget(this.keys.epoch, this.keys.last);
      this.epoch = epoch ?? this.epoch;
      if (last) [this.lastMs, this.lastSeq] = splitId(last);
      this.baselineKnown = true;
      this.lastRemoteSeq = this.lastSeq;
      // Drop what the baseline already covers (published before this instance was live).
      return true;
    } catch {
      return false;
    }
  }

  /** Catches up with the global counter (after a reconnect, or a stalled subscription). */
  private async syncToRemote(): Promise<void> {
    if (this.cmd.status !== 'ready') return;
    const [epoch, last] = await this.cmd.mget(this.keys.epoch, this.keys.last);
    if (epoch !== null) this.adoptEpoch(epoch);
    if (!last) return;
    const [ms, seq] = splitId(last);
    if (seq < this.lastSeq) this.onRegression(ms, seq);
    else if (seq > this.lastSeq) await this.backfill(seq);
  }

  /**
   * The sequence went back (a failover lost writes the replica never got): events this instance
   * delivered after `seq` are gone and their numbers will be reused, so local streams reset.
   */
  private onRegression(ms: number, seq: number): void {
    this.logger.warn(
      `Redis sequence went back from ${this.lastSeq} to ${seq} (failover lost writes): resetting local streams`,
    );
    this.recent.clear();
    this.lastSeq = seq;
    this.lastMs = ms;
    this.resetAll('history-expired');
  }

  private dispatch(event: SeqEvent): void {
    this.lastSeq = event.seq;
    this.lastMs = event.ms;
    this.recent.set(event.seq, event.ms);
    if (this.recent.size > RECENT_SEQS)
      this.recent.delete(this.recent.keys().next().value as number);
    this.index.forEachMatch(event.topic, (sub) => sub.deliver(event));
  }

  /**
   * Delivers, in order, the events after the last dispatched one up to `toSeq`, read from the
   * streams of recently published topics that local subscribers match. Subscribers of a topic
   * whose missed events are no longer retained get a reset.
   */
  private async backfill(toSeq: number): Promise<void> {
    const epoch = this.epoch;
    const gap = toSeq - this.lastSeq;
    if (epoch === undefined || gap > MAX_BACKFILL) {
      this.resetAll('history-expired');
      this.lastSeq = toSeq;
      return;
    }
    const from = streamId(this.lastMs, this.lastSeq);
    const recent = await this.cmd.zrangebyscore(this.keys.topics, this.lastMs, '+inf');
    const wanted = recent.filter((t) => this.hasLocalSubscriber(t));
    const events: SeqEvent[] = [];
    const expired: string[] = [];
    for (const topic of wanted) {
      const key = this.keys.stream(topic);
      let info: unknown[] | undefined;
      try {
        info = (await this.cmd.xinfo('STREAM', key)) as unknown[];
      } catch (err) {
        if (!/no such key/i.test(errorText(err))) throw err;
      }
      const maxDeleted = info && fieldOf(info, 'max-deleted-entry-id');
      if (!info || (typeof maxDeleted === 'string' && compareIds(maxDeleted, from) > 0)) {
        expired.push(topic);
        continue;
      }
      let start = `(${from}`;
      for (let read = 0; read < gap;) {
        const count = Math.min(PAGE, gap - read);
        const page = await this.cmd.xrange(key, start, '+', 'COUNT', count);
        for (const [id, fields] of page) {
          const e = toEvent(epoch, topic, id, fields);
          if (e.seq <= toSeq) events.push(e);
        }
        read += page.length;
        if (page.length < count) break;
        start = `(${page[page.length - 1][0]}`;
      }
    }
    events.sort((a, b) => a.seq - b.seq);
    if (events.length > 0) this.logger.log(`backfilled ${events.length} missed live events`);
    for (const e of events) if (e.seq > this.lastSeq) this.dispatch(e);
    // Resets go after the backfilled events and move each subscriber's position to `toSeq`, so
    // no older event follows a reset (the client's lastEventId never goes backwards).
    const seen = new Set<RedisSubscription>();
    for (const topic of expired) {
      this.index.forEachMatch(topic, (sub) => {
        if (seen.has(sub)) return;
        seen.add(sub);
        sub.maxSeq = Math.max(sub.maxSeq, toSeq);
        sub.reset('history-expired', formatRedisCursor(epoch, this.lastMs, toSeq));
      });
    }
    if (this.lastSeq < toSeq) this.lastSeq = toSeq;
  }

  private hasLocalSubscriber(topic: string): boolean {
    let found = false;
    this.index.forEachMatch(topic, () => (found = true));
    return found;
  }

  /** Takes the key space's epoch; a change after the first means Redis lost its data. */
  private adoptEpoch(epoch: string): void {
    if (this.epoch === undefined) this.epoch = epoch;
    else if (epoch !== this.epoch) this.onEpochChange(epoch);
  }

  /** Redis lost its data (new epoch): old cursors and missed events are gone. */
  private onEpochChange(epoch: string): void {
    this.logger.warn('Redis key space changed (data lost?): resetting local streams');
    this.epoch = epoch;
    this.lastSeq = 0;
    this.lastMs = 0;
    this.recent.clear();
    this.resetAll('history-expired');
  }

  private resetAll(reason: ResetReason): void {
    const cursor = this.nowCursor();
    for (const sub of this.subscriptions) {
      sub.maxSeq = 0;
      sub.reset(reason, cursor);
    }
  }

  /** Detects a silent pub/sub loss: the counter moved but nothing arrived. */
  private tick(): void {
    if (this.closed || this.cmd.status !== 'ready') return;
    // A baseline read that failed (e.g. a Cluster node connection closed at start) is retried.
    if (!this.baselineKnown) this.enqueue({ kind: 'sync' });
    this.cmd
      .mget(this.keys.last)
      .then(([last]) => {
        const remote = last ? splitId(last)[1] : 0;
        if (this.baselineKnown && this.lastSeq < this.lastRemoteSeq) {
          // Behind what was already in Redis a tick ago: pub/sub did not bring it.
          this.stalledTicks++;
          this.enqueue({ kind: 'sync' });
          if (this.stalledTicks >= STALL_TICKS) {
            this.logger.warn('pub/sub stalled: reconnecting the subscriber');
            this.stalledTicks = 0;
            this.sub.disconnect(true);
          }
        } else {
          this.stalledTicks = 0;
        }
        this.lastRemoteSeq = remote;
        return this.cmd.zcard(this.keys.topics);
      })
      .then((n) => (this.knownTopics = n))
      .catch(() => undefined);
  }
}

function unavailable(message: string, cause?: unknown): BrokerError {
  return new BrokerError(BrokerErrorCode.Unavailable, message, { cause });
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
function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Parses `epoch\nseq\nms\ntopic\ntype\ntraceparent\ndata`. */
function parseLive(message: string): { epoch: string; event: SeqEvent } | undefined {
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
    event: {
      kind: 'event',
      id: formatRedisCursor(epoch, ms, seq),
      seq,
      ms,
      topic,
      type,
      data: message.slice(at),
      publishedAt: ms,
      ...(traceparent ? { traceparent } : {}),
    },
  };
}

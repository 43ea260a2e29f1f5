import { createHash, randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { Observable, type Subscriber } from 'rxjs';
import { TopicIndex, filterMatches, type TopicFilter } from '@herald/topics';
import { Broker, type SubscribeOptions } from '../../broker.port';
import { BrokerError, BrokerErrorCode } from '../../broker.errors';
import type {
  BrokerEvent,
  BrokerMessage,
  BrokerStats,
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
import { PUBLISH_SCRIPT } from './redis.publish.script';

/** Options of the Redis adapter. */
export interface RedisBrokerOptions {
  /** `redis://` or `rediss://` URL. */
  readonly url: string;
  /** Prefix of every key and channel (default `herald:`); tests use unique prefixes. */
  readonly keyPrefix?: string;
  /** Retained events per topic (HISTORY_SIZE). */
  readonly historySize: number;
  /** Maximum age of retained events and idempotency records, in ms (HISTORY_TTL_S). */
  readonly historyTtlMs: number;
  /** How often the instance checks the global counter to catch silent pub/sub losses (1000). */
  readonly syncIntervalMs?: number;
}

/** A stored event with its global sequence number (never exposed beyond the port's type). */
interface SeqEvent extends BrokerEvent {
  readonly seq: number;
  readonly ms: number;
}

/** Largest gap the instance backfills from the streams; beyond it, local streams are reset. */
const MAX_BACKFILL = 100_000;
/** Entries per XRANGE page. */
const PAGE = 500;
/** Consecutive sync ticks without pub/sub progress before the subscriber is reconnected. */
const STALL_TICKS = 3;

class RedisSubscription {
  /** Highest sequence handed to the subscriber. */
  maxSeq = 0;
  /** Live events held while the replay runs; `undefined` once live. */
  buffer: SeqEvent[] | undefined;

  constructor(
    readonly filters: readonly TopicFilter[],
    readonly subscriber: Subscriber<BrokerMessage>,
    replaying: boolean,
  ) {
    if (replaying) this.buffer = [];
  }

  deliver(event: SeqEvent): void {
    if (this.buffer) {
      this.buffer.push(event);
      return;
    }
    this.emit(event);
  }

  emit(event: SeqEvent): void {
    // Also drops the repeats when several filters of one subscription match.
    if (event.seq <= this.maxSeq) return;
    this.maxSeq = event.seq;
    this.subscriber.next(event);
  }

  goLive(): void {
    const buffered = this.buffer ?? [];
    this.buffer = undefined;
    for (const e of buffered) {
      if (this.subscriber.closed) return;
      this.emit(e);
    }
  }

  reset(reason: ResetReason, cursor: string): void {
    this.subscriber.next({ kind: 'reset', reason, cursor });
  }
}

/** What one topic's replay read found. */
interface TopicReplay {
  readonly expired: boolean;
  readonly events: readonly SeqEvent[];
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
  private readonly cmd: Redis;
  /** The one pub/sub subscription of this instance. */
  private readonly sub: Redis;
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
  private readonly inflight = new Map<string, Promise<TopicReplay>>();
  private closed = false;

  constructor(private readonly options: RedisBrokerOptions) {
    super();
    this.keys = new RedisKeys(options.keyPrefix);
    this.scriptSha = createHash('sha1').update(PUBLISH_SCRIPT).digest('hex');
    const common: RedisOptions = {
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
    };
    this.cmd = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      // Never resend a command after a reconnect: the publish script may have run before the
      // connection dropped, and a second run would store and deliver its events twice. Commands
      // in flight at a drop fail at once (maxRetriesPerRequest 0 flushes them on close); the
      // publisher gets 503 and may retry with its Idempotency-Key; reads are retried by callers.
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectionName: 'herald-cmd',
    });
    this.sub = new Redis(options.url, {
      ...common,
      enableOfflineQueue: true,
      autoResubscribe: true,
      maxRetriesPerRequest: null,
      connectionName: 'herald-sub',
    });
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
    for (const sub of [...this.subscriptions]) sub.subscriber.complete();
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
      return await this.cmd.evalsha(this.scriptSha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!errorText(err).includes('NOSCRIPT')) throw err;
      return this.cmd.eval(PUBLISH_SCRIPT, keys.length, ...keys, ...args);
    }
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
      let cursor: RedisCursor | undefined;
      if (options.cursor !== undefined) {
        cursor = parseRedisCursor(options.cursor);
        if (!cursor) throw new BrokerError(BrokerErrorCode.MalformedCursor, 'malformed cursor');
      }
      const sub = new RedisSubscription(filters, subscriber, cursor !== undefined);
      for (const f of filters) this.index.add(f, sub);
      this.subscriptions.add(sub);
      if (cursor) void this.resume(sub, cursor);
      return () => {
        for (const f of filters) this.index.delete(f, sub);
        this.subscriptions.delete(sub);
      };
    });
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

  /** Replays what followed `cursor` (retrying while Redis is away), then goes live. */
  private async resume(sub: RedisSubscription, cursor: RedisCursor): Promise<void> {
    for (let attempt = 0; !sub.subscriber.closed && !this.closed; attempt++) {
      try {
        const outcome = await this.replay(sub.filters, cursor);
        if (sub.subscriber.closed) return;
        if (outcome.kind === 'reset') {
          // Events up to the reset cursor belong to the state the client refetches.
          sub.maxSeq = outcome.at.seq;
          sub.reset(
            outcome.reason,
            formatRedisCursor(outcome.at.epoch, outcome.at.ms, outcome.at.seq),
          );
        } else {
          sub.maxSeq = cursor.seq;
          for (const e of outcome.events) {
            if (sub.subscriber.closed) return;
            sub.emit(e);
          }
          // Every matching event up to `at` was in the replay (the subscription was live before
          // `at` was read); later ones come from the live buffer, so nothing at or below `at`
          // may be emitted from it.
          sub.maxSeq = Math.max(sub.maxSeq, outcome.at.seq);
        }
        sub.goLive();
        return;
      } catch (err) {
        if (attempt === 0) this.logger.warn(`replay failed, retrying: ${errorText(err)}`);
        await sleep(Math.min(250 * (attempt + 1), 1000));
      }
    }
  }

  private async replay(
    filters: readonly TopicFilter[],
    cursor: RedisCursor,
  ): Promise<
    | { kind: 'events'; events: SeqEvent[]; at: RedisCursor }
    | { kind: 'reset'; reason: ResetReason; at: RedisCursor }
  > {
    if (this.cmd.status !== 'ready') throw unavailable('Redis is not connected');
    const [epoch, last, forgotten] = await this.cmd.mget(
      this.keys.epoch,
      this.keys.last,
      this.keys.forgotten,
    );
    const [remoteMs, remoteSeq] = last ? splitId(last) : [0, 0];
    const at: RedisCursor = { epoch: epoch ?? this.epoch ?? '0', ms: remoteMs, seq: remoteSeq };
    if (epoch !== cursor.epoch || cursor.seq > remoteSeq) {
      return { kind: 'reset', reason: 'unknown-cursor', at };
    }
    if (forgotten && cursor.ms < Number(forgotten)) {
      return { kind: 'reset', reason: 'history-expired', at };
    }
    const topics = await this.candidateTopics(filters, cursor.ms);
    const from = streamId(cursor.ms, cursor.seq);
    const reads = await Promise.all(
      topics.map((t) => this.readTopicCoalesced(t, from, epoch, at.seq)),
    );
    if (reads.some((r) => r.expired)) return { kind: 'reset', reason: 'history-expired', at };
    // Topics are read at different moments: keep exactly the events up to `at`, so the seam with
    // the live buffer is one sequence number for every topic.
    const events = reads.flatMap((r) => r.events).filter((e) => e.seq <= at.seq);
    events.sort((a, b) => a.seq - b.seq);
    return { kind: 'events', events, at };
  }

  /** Topics matching `filters` with a publish at or after `sinceMs` (from the registry). */
  private async candidateTopics(filters: readonly TopicFilter[], sinceMs: number) {
    const concrete = filters.filter((f) => f.kind === 'topic').map((f) => f.raw);
    const patterns = filters.filter((f) => f.kind === 'pattern');
    const found = new Set<string>();
    if (concrete.length > 0) {
      const scores = await this.cmd.zmscore(this.keys.topics, ...concrete);
      concrete.forEach((t, i) => {
        const s = scores[i];
        if (s !== null && Number(s) >= sinceMs) found.add(t);
      });
    }
    if (patterns.length > 0) {
      const recent = await this.cmd.zrangebyscore(this.keys.topics, sinceMs, '+inf');
      for (const t of recent) {
        const segments = t.split('/');
        if (patterns.some((p) => filterMatches(p, segments))) found.add(t);
      }
    }
    return [...found];
  }

  /**
   * One read per (topic, cursor, head) at a time: a reconnect storm resuming one cursor reads once.
   * The head (`atSeq`, read after the subscription went live) is part of the key, so a subscriber
   * only shares a read that started after its own snapshot of the sequence.
   */
  private readTopicCoalesced(
    topic: string,
    from: string,
    epoch: string,
    atSeq: number,
  ): Promise<TopicReplay> {
    const key = `${topic}\u0000${from}\u0000${atSeq}`;
    let read = this.inflight.get(key);
    if (!read) {
      read = this.readTopic(topic, from, epoch).finally(() => this.inflight.delete(key));
      this.inflight.set(key, read);
    }
    return read;
  }

  /**
   * Reads the events after `from` in one topic, at most HISTORY_SIZE + 1 in pages. Expired when
   * an entry after `from` was trimmed (XINFO max-deleted-entry-id), the stream is gone although
   * the registry saw it after the cursor, more than HISTORY_SIZE follow, or the first is older
   * than the TTL.
   */
  private async readTopic(topic: string, from: string, epoch: string): Promise<TopicReplay> {
    const key = this.keys.stream(topic);
    let info: unknown[];
    try {
      info = (await this.cmd.xinfo('STREAM', key)) as unknown[];
    } catch (err) {
      if (/no such key/i.test(errorText(err))) return { expired: true, events: [] };
      throw err;
    }
    const maxDeleted = fieldOf(info, 'max-deleted-entry-id');
    if (typeof maxDeleted === 'string' && compareIds(maxDeleted, from) > 0) {
      return { expired: true, events: [] };
    }
    const limit = this.options.historySize + 1;
    const events: SeqEvent[] = [];
    let start = `(${from}`;
    while (events.length < limit) {
      const count = Math.min(PAGE, limit - events.length);
      const page = await this.cmd.xrange(key, start, '+', 'COUNT', count);
      for (const [id, fields] of page) events.push(toEvent(epoch, topic, id, fields));
      if (page.length < count) break;
      start = `(${page[page.length - 1][0]}`;
    }
    const cutoff = Date.now() - this.options.historyTtlMs;
    if (events.length >= limit || (events.length > 0 && events[0].ms < cutoff)) {
      return { expired: true, events: [] };
    }
    return { expired: false, events };
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
    const [, seq] = splitId(last);
    if (seq > this.lastSeq) await this.backfill(seq);
  }

  private dispatch(event: SeqEvent): void {
    this.lastSeq = event.seq;
    this.lastMs = event.ms;
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
  // redis-errors' ReplyError: Redis itself answered (ioredis types it as `any`).
  if (err instanceof Error && err.name === 'ReplyError') {
    return unavailable(`Redis refused the publish: ${errorText(err)}`, err);
  }
  return unavailable(
    'the Redis connection broke before the publish was confirmed; it may have been stored: ' +
      'retry with the same Idempotency-Key',
    err,
  );
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function splitId(id: string): [number, number] {
  const dash = id.indexOf('-');
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

/** Compares two stream ids `<ms>-<seq>`. */
function compareIds(a: string, b: string): number {
  const [am, as] = splitId(a);
  const [bm, bs] = splitId(b);
  return am === bm ? as - bs : am - bm;
}

function fieldOf(flat: unknown[], name: string): unknown {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

function toEvent(epoch: string, topic: string, id: string, fields: string[]): SeqEvent {
  const [ms, seq] = splitId(id);
  let type = 'message';
  let data = 'null';
  let traceparent: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = fields[i + 1];
    if (fields[i] === 't') type = v;
    else if (fields[i] === 'd') data = v;
    else if (fields[i] === 'p' && v !== '') traceparent = v;
  }
  return {
    kind: 'event',
    id: formatRedisCursor(epoch, ms, seq),
    seq,
    ms,
    topic,
    type,
    data,
    publishedAt: ms,
    ...(traceparent ? { traceparent } : {}),
  };
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

import { randomBytes } from 'node:crypto';
import { Observable } from 'rxjs';
import { TopicIndex, filterMatches, type TopicFilter } from '@herald/topics';
import {
  Broker,
  type BrokerAttachment,
  type BrokerSink,
  type SubscribeOptions,
} from '../broker.port';
import { BrokerError, BrokerErrorCode } from '../broker.errors';
import { idempotencyRecordName } from '../idempotency.key';
import { HistoryPolicies, type HistoryPolicyRule } from '../history.policies';
import type {
  BrokerEvent,
  BrokerMessage,
  BrokerStats,
  LatestEvents,
  PublishOptions,
  PublishRequest,
  PublishResult,
  TopicHistoryInfo,
} from '../broker.types';

/** Options of the in-memory adapter. */
export interface InMemoryBrokerOptions {
  /** Retained events per topic. */
  readonly historySize: number;
  /** Maximum age of retained events, and lifetime of idempotency keys, in ms. */
  readonly historyTtlMs: number;
  /**
   * Most live idempotency keys remembered (IDEMPOTENCY_MAX_KEYS, default
   * {@link DEFAULT_MAX_IDEMPOTENCY_KEYS}). A key is never forgotten before its TTL: when this
   * many are live, a publish with a new key is refused (`idempotency-capacity`).
   */
  readonly maxIdempotencyKeys?: number;
  /** Per-topic size and age (HISTORY_POLICIES), first match wins. */
  readonly historyPolicies?: readonly HistoryPolicyRule[];
}

interface StoredEvent extends BrokerEvent {
  readonly seq: number;
}

/** Per-topic ring of retained events. */
class TopicHistory {
  readonly events: StoredEvent[] = [];
  /** Start index of live entries in `events` (compacted lazily). */
  head = 0;
  /** Highest sequence number evicted from this topic (0: none). */
  droppedThrough = 0;
  readonly segments: string[];

  constructor(
    readonly topic: string,
    /** Retained events (the topic's history policy). */
    readonly size: number,
    /** Maximum age of retained events in ms (the topic's history policy). */
    readonly ttlMs: number,
  ) {
    this.segments = topic.split('/');
  }

  get length(): number {
    return this.events.length - this.head;
  }

  push(event: StoredEvent): void {
    this.events.push(event);
    while (this.length > this.size) this.dropFirst();
  }

  dropOlderThan(cutoff: number): void {
    while (this.length > 0 && this.events[this.head].publishedAt < cutoff) this.dropFirst();
  }

  /** Pushes to `out` up to `max` retained events with `after` < seq <= `through`, oldest first. */
  collectAfter(after: number, through: number, max: number, out: StoredEvent[]): void {
    // Binary search: seq is increasing.
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid].seq <= after) lo = mid + 1;
      else hi = mid;
    }
    const end = Math.min(this.events.length, lo + max);
    for (let i = lo; i < end && this.events[i].seq <= through; i++) out.push(this.events[i]);
  }

  private dropFirst(): void {
    this.droppedThrough = this.events[this.head].seq;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** A sink with an optional `closed` flag (an rxjs Subscriber has one). */
type LocalSink = BrokerSink & { readonly closed?: boolean };

/** One live subscription: the sink is called directly for each delivery. */
class LocalSubscription implements BrokerAttachment {
  last: StoredEvent | undefined;
  private stopped = false;
  teardown: (() => void) | undefined;
  /** Set while a replay waits for the sink to have room: continues it. */
  paused: (() => void) | undefined;

  constructor(private readonly sink: LocalSink) {}

  get closed(): boolean {
    return this.stopped || this.sink.closed === true;
  }

  /** The sink's flow control (a sink without it always has room). */
  hasRoom(): boolean {
    return this.sink.hasRoom?.() ?? true;
  }

  resume(): void {
    const paused = this.paused;
    this.paused = undefined;
    paused?.();
  }

  next(message: BrokerMessage): void {
    if (!this.stopped) this.sink.next(message);
  }

  deliver(event: StoredEvent): void {
    // One delivery per publish even when several of the subscription's filters match.
    if (this.last === event || this.stopped) return;
    this.last = event;
    this.sink.next(event);
  }

  unsubscribe(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.paused = undefined;
    const teardown = this.teardown;
    this.teardown = undefined;
    teardown?.();
  }
}

/** The topics a replay reads, looked up when the sequence stood at `through`. */
interface ReplayScan {
  readonly histories: readonly TopicHistory[];
  readonly through: number;
}

interface IdempotencyRecord {
  readonly ids: readonly string[];
  readonly fingerprint: string | undefined;
  readonly expiresAt: number;
}

/** Default bound on live idempotency keys of the in-memory broker. */
export const DEFAULT_MAX_IDEMPOTENCY_KEYS = 100_000;

const CURSOR = /^m\.([a-z0-9]{1,16})\.([0-9]{1,16})$/;

/**
 * Events per replay page. A resume holds at most one page beyond what its sink took, and reads
 * the next one only when the sink has room (the events themselves are the shared stored ones).
 */
export const IN_MEMORY_REPLAY_PAGE = 64;

/**
 * Single-process broker: a global sequence orders every event, so one cursor covers any set of
 * topics and patterns. A restart changes the epoch, and old cursors get `unknown-cursor`.
 */
export class InMemoryBroker extends Broker {
  private readonly epoch = randomBytes(6).readUIntBE(0, 6).toString(36);
  private seq = 0;
  private readonly histories = new Map<string, TopicHistory>();
  /** Highest seq of any event dropped together with its (now forgotten) topic. */
  private forgottenThrough = 0;
  private readonly index = new TopicIndex<LocalSubscription>();
  private subscriptionCount = 0;
  private readonly idempotency = new Map<string, IdempotencyRecord>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly policies: HistoryPolicies;

  constructor(private readonly options: InMemoryBrokerOptions) {
    super();
    this.policies = new HistoryPolicies(options.historyPolicies ?? [], {
      size: options.historySize,
      ttlMs: options.historyTtlMs,
    });
    const every = Math.min(Math.max(this.policies.minTtlMs / 4, 250), 60_000);
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }

  publish(events: readonly PublishRequest[], options: PublishOptions = {}): Promise<PublishResult> {
    const now = Date.now();
    const key =
      options.idempotencyKey === undefined
        ? undefined
        : idempotencyRecordName(options.idempotencyKey);
    if (key !== undefined) {
      const seen = this.idempotency.get(key);
      if (seen && seen.expiresAt > now) {
        if (seen.fingerprint !== options.fingerprint) {
          return Promise.reject(
            new BrokerError(
              BrokerErrorCode.IdempotencyConflict,
              'Idempotency-Key was already used with a different request',
            ),
          );
        }
        return Promise.resolve({ ids: seen.ids, duplicate: true });
      }
      const full = this.refuseNewKey(now);
      if (full !== undefined) return Promise.reject(full);
    }
    const stored: StoredEvent[] = [];
    for (const e of events) {
      const seq = ++this.seq;
      stored.push({
        kind: 'event',
        id: `m.${this.epoch}.${seq}`,
        seq,
        topic: e.topic,
        type: e.type,
        data: e.data,
        publishedAt: now,
        traceparent: options.traceparent,
      });
    }
    for (const event of stored) {
      let history = this.histories.get(event.topic);
      if (!history) {
        const policy = this.policies.of(event.topic);
        history = new TopicHistory(event.topic, policy.size, policy.ttlMs);
        this.histories.set(event.topic, history);
      }
      history.dropOlderThan(now - history.ttlMs);
      history.push(event);
    }
    const ids = stored.map((e) => e.id);
    if (key !== undefined) this.remember(key, ids, options.fingerprint, now);
    for (const event of stored) {
      this.index.forEachMatch(event.topic, (sub) => sub.deliver(event));
    }
    return Promise.resolve({ ids, duplicate: false });
  }

  subscribe(
    filters: readonly TopicFilter[],
    options: SubscribeOptions = {},
  ): Observable<BrokerMessage> {
    return new Observable<BrokerMessage>((subscriber) => {
      const attachment = this.open(filters, options, subscriber);
      return () => attachment.unsubscribe();
    });
  }

  /** Direct delivery: the index calls `sink.next` for each event, no Observable chain. */
  override attach(
    filters: readonly TopicFilter[],
    options: SubscribeOptions,
    sink: BrokerSink,
  ): BrokerAttachment {
    try {
      return this.open(filters, options, sink);
    } catch (err) {
      sink.error(err);
      return { unsubscribe: () => undefined };
    }
  }

  /**
   * Replays (when resuming) in pages paced by the sink's room, then registers `sink` live in the
   * same synchronous step as the last page: no seam.
   */
  private open(
    filters: readonly TopicFilter[],
    options: SubscribeOptions,
    sink: LocalSink,
  ): LocalSubscription {
    const sub = new LocalSubscription(sink);
    if (options.cursor === undefined) {
      this.goLive(filters, sub);
      return sub;
    }
    const after = this.replayStart(options.cursor, sub);
    if (after === undefined) this.goLive(filters, sub);
    else this.replayFrom(filters, after, sub);
    return sub;
  }

  private goLive(filters: readonly TopicFilter[], sub: LocalSubscription): void {
    if (sub.closed) return;
    for (const f of filters) this.index.add(f, sub);
    this.subscriptionCount++;
    sub.teardown = () => {
      for (const f of filters) this.index.delete(f, sub);
      this.subscriptionCount--;
    };
  }

  latest(filters: readonly TopicFilter[], maxTopics: number): Promise<LatestEvents> {
    const cutoff = Date.now() - this.options.historyTtlMs;
    const newest: StoredEvent[] = [];
    for (const h of this.matchingHistories(filters)) {
      const last = h.length > 0 ? h.events[h.events.length - 1] : undefined;
      if (last !== undefined && last.publishedAt >= cutoff) newest.push(last);
    }
    newest.sort((a, b) => b.seq - a.seq);
    const events = newest.slice(0, maxTopics).reverse();
    return Promise.resolve({ events, cursor: this.nowCursor() });
  }

  isWellFormedCursor(cursor: string): boolean {
    return CURSOR.test(cursor);
  }

  nowCursor(): string {
    return `m.${this.epoch}.${this.seq}`;
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  stats(): BrokerStats {
    return { subscriptions: this.subscriptionCount, topics: this.histories.size };
  }

  override topicHistory(topic: string): Promise<TopicHistoryInfo> {
    const policy = this.policies.of(topic);
    const h = this.histories.get(topic);
    h?.dropOlderThan(Date.now() - h.ttlMs);
    return Promise.resolve({
      topic,
      policy: { pattern: policy.pattern, size: policy.size, ttlSeconds: policy.ttlMs / 1000 },
      retained: h?.length ?? 0,
    });
  }

  /**
   * Checks a resume cursor: its sequence number, or `undefined` after emitting a reset.
   * @throws BrokerError `malformed-cursor`.
   */
  private replayStart(cursor: string, out: LocalSubscription): number | undefined {
    const match = CURSOR.exec(cursor);
    if (!match) {
      throw new BrokerError(BrokerErrorCode.MalformedCursor, 'malformed cursor');
    }
    const after = Number(match[2]);
    if (match[1] !== this.epoch || after > this.seq) {
      out.next({ kind: 'reset', reason: 'unknown-cursor', cursor: this.nowCursor() });
      return undefined;
    }
    return after;
  }

  /**
   * Hands `out` the matching events after `pos`, a page at a time and only while its sink has
   * room; pauses (resumed by `out.resume()`) when it has none, and goes live once caught up.
   * The matching topics are looked up once per snapshot of the sequence (`scan`) and pages stop
   * at that snapshot, so a topic created later is found by the next lookup before any of its
   * events is due. History evicted past the position gives a `history-expired` reset, then live.
   */
  private replayFrom(
    filters: readonly TopicFilter[],
    pos: number,
    out: LocalSubscription,
    scan?: ReplayScan,
  ): void {
    for (;;) {
      if (out.closed) return;
      if (!out.hasRoom()) {
        const at = pos;
        out.paused = () => this.replayFrom(filters, at, out, scan);
        return;
      }
      if (scan === undefined || pos >= scan.through) {
        // Caught up with the last snapshot: one more lookup, up to the sequence now.
        if (scan !== undefined && scan.through === this.seq) break;
        scan = { histories: this.matchingHistories(filters), through: this.seq };
      }
      const page = this.replayPage(scan, pos);
      if (page === undefined) {
        out.next({ kind: 'reset', reason: 'history-expired', cursor: this.nowCursor() });
        break;
      }
      if (page.length === 0) {
        pos = scan.through;
        continue;
      }
      for (const e of page) {
        if (out.closed) return;
        if (!out.hasRoom()) {
          const at = pos;
          out.paused = () => this.replayFrom(filters, at, out, scan);
          return;
        }
        out.next(e);
        pos = e.seq;
      }
    }
    this.goLive(filters, out);
  }

  /** The next events after `pos` (at most to the scan's snapshot), or `undefined` if evicted. */
  private replayPage(scan: ReplayScan, pos: number): StoredEvent[] | undefined {
    // A position older than a forgotten topic's last event is older than the history window.
    if (pos < this.forgottenThrough) return undefined;
    const now = Date.now();
    const page: StoredEvent[] = [];
    for (const h of scan.histories) {
      h.dropOlderThan(now - h.ttlMs);
      if (h.droppedThrough > pos) return undefined;
      h.collectAfter(pos, scan.through, IN_MEMORY_REPLAY_PAGE, page);
    }
    page.sort((a, b) => a.seq - b.seq);
    if (page.length > IN_MEMORY_REPLAY_PAGE) page.length = IN_MEMORY_REPLAY_PAGE;
    return page;
  }

  private matchingHistories(filters: readonly TopicFilter[]): TopicHistory[] {
    const found = new Set<TopicHistory>();
    const patterns = filters.filter((f) => f.kind === 'pattern');
    for (const f of filters) {
      if (f.kind === 'topic') {
        const h = this.histories.get(f.raw);
        if (h) found.add(h);
      }
    }
    if (patterns.length > 0) {
      for (const h of this.histories.values()) {
        if (patterns.some((p) => filterMatches(p, h.segments))) found.add(h);
      }
    }
    return [...found];
  }

  /**
   * Purges expired keys, then refuses a new one when {@link InMemoryBrokerOptions.maxIdempotencyKeys}
   * are live: a key is honoured for its whole TTL or not taken at all, never dropped early.
   */
  private refuseNewKey(now: number): BrokerError | undefined {
    this.purgeExpiredKeys(now);
    const max = this.options.maxIdempotencyKeys ?? DEFAULT_MAX_IDEMPOTENCY_KEYS;
    if (this.idempotency.size < max) return undefined;
    const oldest = this.idempotency.values().next();
    const retryAfterMs = oldest.done ? 1000 : Math.max(1, oldest.value.expiresAt - now);
    return new BrokerError(
      BrokerErrorCode.IdempotencyCapacity,
      `too many live Idempotency-Keys (${max}, IDEMPOTENCY_MAX_KEYS); publish without one or retry later`,
      { retryAfterMs },
    );
  }

  private remember(
    key: string,
    ids: readonly string[],
    fingerprint: string | undefined,
    now: number,
  ) {
    // Re-inserted at the end, so insertion order stays expiry order (the purge relies on it).
    this.idempotency.delete(key);
    this.idempotency.set(key, { ids, fingerprint, expiresAt: now + this.options.historyTtlMs });
  }

  /** Drops expired keys from the front (every key has the same TTL: insertion is expiry order). */
  private purgeExpiredKeys(now: number): void {
    for (const [key, record] of this.idempotency) {
      if (record.expiresAt > now) break;
      this.idempotency.delete(key);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [topic, h] of this.histories) {
      h.dropOlderThan(now - h.ttlMs);
      if (h.length === 0) {
        this.forgottenThrough = Math.max(this.forgottenThrough, h.droppedThrough);
        this.histories.delete(topic);
      }
    }
    this.purgeExpiredKeys(now);
  }
}

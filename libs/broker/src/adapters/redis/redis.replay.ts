import type { RedisClient } from '@herald/redis';
import { filterMatches, type TopicFilter } from '@herald/topics';
import type { BrokerEvent } from '../../broker.types';
import type { HistoryPolicies } from '../../history.policies';
import { streamId, type RedisCursor, type RedisKeys } from './redis.keys';
import { readStreamPage, splitId, toEvent } from './redis.stream-reader';

export { compareIds, fieldOf, splitId, toEvent } from './redis.stream-reader';

/** A stored event with its partition's sequence number (never exposed beyond the port's type). */
export interface SeqEvent extends BrokerEvent {
  /** Write partition (0 with one partition). */
  readonly partition: number;
  /** Sequence in the partition (global with one partition). */
  readonly seq: number;
  readonly ms: number;
  /**
   * Partitioned key spaces: the instance's position in every partition when this live event was
   * dispatched (encoded in `id`); absent on replayed events.
   */
  readonly vector?: readonly (number | undefined)[];
}

/**
 * Most topic names a pattern resume reads from the topic registry (one bounded read): a cursor
 * older than this many distinct topics published since gets `history-expired` instead.
 */
export const MAX_PATTERN_SCAN = 10_000;
/** Most matching topics one resume merges; more gives `history-expired`. */
export const MAX_REPLAY_TOPICS = 1_000;
/** Events one resume holds per round across its topics' pages (beyond what its sink took). */
export const REPLAY_PAGE_BUDGET = 256;
/** Events per topic page: at most this, at least {@link MIN_TOPIC_PAGE}. */
export const MAX_TOPIC_PAGE = 64;
const MIN_TOPIC_PAGE = 2;
/** Target size of one topic page: the next page's count follows the previous page's sizes. */
const PAGE_BYTES = 256 * 1024;
/**
 * Pages read recently stay shareable this long, within {@link RECENT_PAGES_BYTES}: resumes of one
 * cursor walk the same page boundaries at their own pace, so they share the event objects (and
 * frames) instead of each reading its own copy.
 */
const RECENT_PAGE_MS = 2000;
const RECENT_PAGES_BYTES = 16 * 1024 * 1024;

interface RecentPage {
  readonly page: TopicPage;
  readonly bytes: number;
  readonly at: number;
}

/** The key space's head as one resume saw it, after its subscription went live. */
export interface ReplaySnapshot {
  readonly epoch: string | null;
  readonly at: { readonly ms: number; readonly seq: number };
  readonly forgottenMs: number | undefined;
}

/** One page of one topic: events after `from`, or expired when some were trimmed. */
export interface TopicPage {
  readonly expired: boolean;
  readonly events: readonly SeqEvent[];
  /** True when the page was full (more may follow). */
  readonly full: boolean;
}

/** What a merged replay still needs from its subscription. */
export interface ReplayTarget {
  readonly closed: boolean;
  /** Hands one event on (dropped when at or below what was handed already). */
  emit(event: SeqEvent): void;
  /** Resolves when the subscription's sink has room (at once when it has). */
  room(): Promise<void> | undefined;
}

/**
 * Reads one partition's history for resumes, in pages, with identical reads shared: a reconnect
 * storm resuming one cursor reads each registry scan and each topic page once, and every resume
 * holds only the page it is writing (the event objects, and so their frames, are shared between
 * them).
 */
export class RedisReplayReader {
  private readonly inflightPages = new Map<string, Promise<TopicPage>>();
  private readonly inflightScans = new Map<string, Promise<string[] | undefined>>();
  /** Completed pages by key, oldest first (insertion order). */
  private readonly recent = new Map<string, RecentPage>();
  private recentBytes = 0;

  constructor(
    private readonly cmd: RedisClient,
    private readonly keys: RedisKeys,
    /** History size and age per topic. */
    private readonly policies: HistoryPolicies,
    /** Index of the partition this reader reads. */
    readonly partition: number = 0,
  ) {}

  /** The head, epoch and forgotten cutoff. Read per resume: it must follow going live. */
  async snapshot(): Promise<ReplaySnapshot> {
    const [epoch, last, forgotten] = await this.cmd.mget(
      this.keys.epoch,
      this.keys.last,
      this.keys.forgotten,
    );
    const [ms, seq] = last ? splitId(last) : [0, 0];
    return { epoch, at: { ms, seq }, forgottenMs: forgotten ? Number(forgotten) : undefined };
  }

  /**
   * Topics matching `filters` with a publish at or after `sinceMs`; `undefined` when a pattern
   * would need more than {@link MAX_PATTERN_SCAN} registry entries or more than
   * {@link MAX_REPLAY_TOPICS} topics match.
   */
  async candidateTopics(
    filters: readonly TopicFilter[],
    sinceMs: number,
    atSeq: number,
  ): Promise<string[] | undefined> {
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
      const recent = await this.recentTopics(sinceMs, atSeq);
      if (recent === undefined) return undefined;
      for (const t of recent) {
        const segments = t.split('/');
        if (patterns.some((p) => filterMatches(p, segments))) found.add(t);
      }
    }
    return found.size > MAX_REPLAY_TOPICS ? undefined : [...found];
  }

  /**
   * One page of `topic` after stream id `from`, shared by every resume asking the same
   * (topic, from, count, head) meanwhile. The head is in the key so a resume only shares a read
   * that started after its own snapshot.
   */
  page(
    topic: string,
    from: string,
    afterSeq: number,
    count: number,
    epoch: string,
    atSeq: number,
    sinceMs?: number,
  ): Promise<TopicPage> {
    const key = `${topic}\u0000${from}\u0000${afterSeq}\u0000${count}\u0000${atSeq}\u0000${sinceMs ?? ''}`;
    const now = Date.now();
    this.forgetRecent(now);
    const done = this.recent.get(key);
    if (done !== undefined) return Promise.resolve(done.page);
    let read = this.inflightPages.get(key);
    if (!read) {
      read = this.readPage(topic, from, afterSeq, count, epoch, sinceMs)
        .then((page) => {
          this.remember(key, page);
          return page;
        })
        .finally(() => this.inflightPages.delete(key));
      this.inflightPages.set(key, read);
    }
    return read;
  }

  private remember(key: string, page: TopicPage): void {
    let bytes = 0;
    for (const e of page.events) bytes += e.data.length;
    if (bytes > RECENT_PAGES_BYTES) return;
    this.recent.set(key, { page, bytes, at: Date.now() });
    this.recentBytes += bytes;
    this.forgetRecent(Date.now());
  }

  private forgetRecent(now: number): void {
    for (const [key, entry] of this.recent) {
      if (this.recentBytes <= RECENT_PAGES_BYTES && now - entry.at < RECENT_PAGE_MS) break;
      this.recent.delete(key);
      this.recentBytes -= entry.bytes;
    }
  }

  /**
   * Hands `target` every matching event after `pos` up to `at`, merged in sequence order from
   * per-topic pages that are read only as the previous ones are written (waiting on
   * `target.room()`). Resolves `expired` when history after `pos` was trimmed meanwhile, or
   * when more than HISTORY_SIZE events of one topic follow `pos`. `pos.ms` may be a lower bound
   * of the position's time (partitioned cursors carry sequences only): events at or below
   * `pos.seq` are skipped.
   */
  async merge(
    target: ReplayTarget,
    topics: readonly string[],
    pos: RedisCursor,
    at: { readonly ms: number; readonly seq: number },
    epoch: string,
    /** `pos` is a time (seq 0): every event at or after `pos.ms`. */
    byTime = false,
  ): Promise<'done' | 'expired' | 'closed'> {
    if (topics.length === 0 || pos.seq >= at.seq) return 'done';
    const most = Math.max(
      MIN_TOPIC_PAGE,
      Math.min(MAX_TOPIC_PAGE, Math.floor(REPLAY_PAGE_BUDGET / topics.length)),
    );
    const heads = topics.map((topic) => ({
      count: Math.min(most, 8),
      topic,
      from: streamId(pos.ms, pos.seq),
      events: [] as readonly SeqEvent[],
      i: 0,
      done: false,
      checked: false,
      read: 0,
    }));
    for (;;) {
      const empty = heads.filter((h) => !h.done && h.i >= h.events.length);
      if (empty.length > 0) {
        const pages = await Promise.all(
          empty.map((h) =>
            this.page(
              h.topic,
              h.from,
              pos.seq,
              h.count,
              epoch,
              at.seq,
              byTime ? pos.ms : undefined,
            ),
          ),
        );
        if (target.closed) return 'closed';
        for (let k = 0; k < empty.length; k++) {
          const h = empty[k];
          const page = pages[k];
          if (page.expired) return 'expired';
          const last = page.events[page.events.length - 1];
          h.i = 0;
          const after = page.events.filter((e) => e.seq > pos.seq);
          // The first event after the cursor is older than the TTL: expired (trimmed lazily).
          if (!h.checked && after.length > 0) {
            h.checked = true;
            if (after[0].ms < Date.now() - this.policies.of(h.topic).ttlMs) return 'expired';
          }
          // More than HISTORY_SIZE after the cursor: trimmed by size (MAXLEN ~ trims lazily).
          h.read += after.length;
          if (h.read > this.policies.of(h.topic).size) return 'expired';
          h.events = after.filter((e) => e.seq <= at.seq);
          if (last !== undefined) h.from = streamId(last.ms, last.seq);
          // The next page's size follows this one's events (the same for every resume walking
          // this topic from this cursor, so their pages stay shareable).
          let bytes = 0;
          for (const e of page.events) bytes += e.data.length;
          const each = page.events.length > 0 ? Math.max(1, bytes / page.events.length) : 1;
          h.count = Math.max(MIN_TOPIC_PAGE, Math.min(most, Math.floor(PAGE_BYTES / each)));
          if (!page.full || last === undefined || last.seq >= at.seq) h.done = true;
        }
      }
      let best: (typeof heads)[number] | undefined;
      for (const h of heads) {
        if (h.i >= h.events.length) continue;
        if (best === undefined || h.events[h.i].seq < best.events[best.i].seq) best = h;
      }
      if (best === undefined) {
        if (heads.every((h) => h.done)) return 'done';
        continue;
      }
      const wait = target.room();
      if (wait !== undefined) await wait;
      if (target.closed) return 'closed';
      target.emit(best.events[best.i++]);
    }
  }

  /** One bounded registry read, shared by resumes with the same cut and head. */
  private recentTopics(sinceMs: number, atSeq: number): Promise<string[] | undefined> {
    const key = `${sinceMs}\u0000${atSeq}`;
    let scan = this.inflightScans.get(key);
    if (!scan) {
      scan = this.cmd
        .zrangebyscore(this.keys.topics, sinceMs, '+inf', 'LIMIT', 0, MAX_PATTERN_SCAN + 1)
        .then((names) => (names.length > MAX_PATTERN_SCAN ? undefined : names))
        .finally(() => this.inflightScans.delete(key));
      this.inflightScans.set(key, scan);
    }
    return scan;
  }

  /**
   * Expired when an entry after `from` was trimmed (XINFO max-deleted-entry-id), the stream is
   * gone although the registry saw it after the cursor, or (first page) the first event is
   * older than the TTL.
   */
  private async readPage(
    topic: string,
    from: string,
    afterSeq: number,
    count: number,
    epoch: string,
    sinceMs: number | undefined,
  ): Promise<TopicPage> {
    const read = await readStreamPage(
      this.cmd,
      this.keys.stream(topic),
      from,
      sinceMs === undefined ? { seq: afterSeq } : { ms: sinceMs },
      count,
    );
    if (read.expired) return EXPIRED;
    const entries = read.entries;
    const events = entries.map(([id, fields]) => toEvent(epoch, topic, id, fields, this.partition));
    return { expired: false, events, full: entries.length >= count };
  }
}

const EXPIRED: TopicPage = { expired: true, events: [], full: false };

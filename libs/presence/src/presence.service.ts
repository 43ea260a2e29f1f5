import type { IncomingMessage } from 'node:http';
import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { StreamPresence, type PresenceHandle, type PresenceMember } from '@herald/streams';
import { filterMatches, parseTopicFilter, type TopicFilter } from '@herald/topics';
import { leaseTtlOf } from './presence.factory';
import { PRESENCE_MODULE_OPTIONS } from './presence.module-definition';
import type { PresenceModuleOptions } from './presence.options';
import {
  PresenceStore,
  type PresenceBatch,
  type PresenceEntry,
  type PresenceSnapshot,
} from './presence.store';

/**
 * The presence tick: this instance's enters and leaves are stored once per tick per topic, and
 * the joins and leaves reported (from every instance) are handed to observers once per tick per
 * topic, netted (a user who joined and left within the tick is not mentioned).
 */
export const PRESENCE_TICK_MS = 100;
/**
 * Most presence events one tick of a topic writes to its observers together (changes times
 * observers). Past it (a join storm, a crowded room) each observer gets one `herald.presence`
 * `{"topic","connections","users"}` for the tick instead: the cue to refetch `GET /presence`.
 * So a tick costs at most max(this, observers) events, never one per pair of clients.
 */
export const PRESENCE_EVENTS_PER_TICK = 1024;
/** Largest `limit` of `GET /presence` (default {@link PRESENCE_DEFAULT_LIMIT}). */
export const PRESENCE_MAX_LIMIT = 1000;
export const PRESENCE_DEFAULT_LIMIT = 100;

interface ReportedTopic {
  connections: number;
  users: number;
  /** Per sub: the first and the last change reported in this tick. */
  readonly subs: Map<string, { readonly first: 'join' | 'leave'; last: 'join' | 'leave' }>;
}

interface PendingTopic {
  readonly enters: Map<string, PresenceEntry>;
  readonly leaves: Map<string, PresenceEntry>;
}

/** `GET /presence` page with its opaque continuation. */
export interface PresencePage extends Omit<PresenceSnapshot, 'after'> {
  readonly next: string | null;
}

/**
 * Who is subscribed to the concrete topics under PRESENCE_TOPICS, cluster-wide through the
 * {@link PresenceStore}; implements the streams' {@link StreamPresence} port. Enters and leaves
 * of this instance are netted and batched per topic per tick; the joins and leaves they cause
 * (a user's first connection, its last) reach every stream opened with `presence=events` on the
 * topic as `herald.join` / `herald.leave` `{"topic","sub","connections"}`.
 */
@Injectable()
export class PresenceService extends StreamPresence {
  private readonly logger = new Logger(PresenceService.name);
  private readonly patterns: readonly TopicFilter[];
  /** This instance's connections per tracked topic (refreshed as leases). */
  private readonly open = new Map<string, Map<string, PresenceEntry>>();
  private readonly observers = new Map<string, Set<PresenceMember>>();
  private pending = new Map<string, PendingTopic>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private flushing: Promise<void> = Promise.resolve();
  /** Reported changes per topic waiting for the next dispatch tick. */
  private reported = new Map<string, ReportedTopic>();
  private dispatchTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(PRESENCE_MODULE_OPTIONS) private readonly options: PresenceModuleOptions,
    private readonly store: PresenceStore,
  ) {
    super();
    this.patterns = options.topics.map((p) => parseTopicFilter(p));
    store.onBatch((batch) => this.dispatch(batch));
    if (options.driver === 'redis' && this.patterns.length > 0) {
      const ttl = leaseTtlOf(options);
      this.every(Math.max(100, Math.floor(ttl / 3)), () => this.refresh());
      this.every(Math.max(100, Math.floor(ttl / 10)), () => this.store.reap());
    }
  }

  /** True when `topic` is a concrete topic matching PRESENCE_TOPICS. */
  tracks(topic: string): boolean {
    if (this.patterns.length === 0) return false;
    let filter: TopicFilter;
    try {
      filter = parseTopicFilter(topic, false);
    } catch {
      return false;
    }
    return this.patterns.some((p) => filterMatches(p, filter.segments));
  }

  /** @throws BadRequestException for a `presence=` other than `events`, or with no tracked topic. */
  check(req: IncomingMessage, filters: readonly TopicFilter[]): void {
    const mode = presenceMode(req);
    if (mode === undefined) return;
    if (mode !== 'events') {
      throw new BadRequestException('presence must be "events" (or absent)');
    }
    if (!filters.some((f) => f.kind === 'topic' && this.tracks(f.raw))) {
      throw new BadRequestException(
        'presence=events needs a concrete topic under PRESENCE_TOPICS among the topics',
      );
    }
  }

  enter(member: PresenceMember): PresenceHandle | undefined {
    if (this.patterns.length === 0) return undefined; // presence off: nothing per stream
    const topics = member.filters
      .filter((f) => f.kind === 'topic' && this.tracks(f.raw))
      .map((f) => f.raw);
    if (topics.length === 0) return undefined;
    const entry: PresenceEntry = { id: member.id, sub: member.sub };
    const observes = presenceMode(member.req) === 'events';
    for (const topic of topics) {
      let open = this.open.get(topic);
      if (open === undefined) this.open.set(topic, (open = new Map<string, PresenceEntry>()));
      open.set(entry.id, entry);
      this.queue(topic).enters.set(entry.id, entry);
      if (observes) {
        let set = this.observers.get(topic);
        if (set === undefined) this.observers.set(topic, (set = new Set()));
        set.add(member);
      }
    }
    let left = false;
    return {
      leave: () => {
        if (left) return;
        left = true;
        for (const topic of topics) {
          const open = this.open.get(topic);
          open?.delete(entry.id);
          if (open?.size === 0) this.open.delete(topic);
          const set = this.observers.get(topic);
          set?.delete(member);
          if (set?.size === 0) this.observers.delete(topic);
          const pending = this.queue(topic);
          // Entered and left within one tick: the store never hears of it.
          if (!pending.enters.delete(entry.id)) pending.leaves.set(entry.id, entry);
        }
      },
    };
  }

  /**
   * One page of a tracked topic's subscribers, after this instance's pending updates are stored.
   * @throws BadRequestException for a malformed `next`; ServiceUnavailableException (503) when
   *   the store (Redis) does not answer.
   */
  async page(topic: string, limit: number, next: string | undefined): Promise<PresencePage> {
    let after: string | undefined;
    if (next !== undefined) {
      after = Buffer.from(next, 'base64url').toString('utf8');
      if (after.length === 0 || Buffer.from(after).toString('base64url') !== next) {
        throw new BadRequestException('malformed next: pass the "next" of the previous page');
      }
    }
    await this.flush();
    let snapshot: PresenceSnapshot;
    try {
      snapshot = await this.store.snapshot(topic, limit, after);
    } catch (err) {
      this.logger.warn(`presence read of "${topic}" failed: ${String(err)}`);
      throw new ServiceUnavailableException('presence is unavailable (its store did not answer)');
    }
    return {
      topic: snapshot.topic,
      connections: snapshot.connections,
      users: snapshot.users,
      subscribers: snapshot.subscribers,
      next: snapshot.after === undefined ? null : Buffer.from(snapshot.after).toString('base64url'),
    };
  }

  /**
   * Stops refreshing leases and reaping (at application shutdown, after drain closed the
   * streams: leases stay fresh while they drain).
   */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.dispatchTimer !== undefined) clearTimeout(this.dispatchTimer);
  }

  /** Stores what is pending now (also what shutdown waits for). */
  flush(): Promise<void> {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    const batch = this.pending;
    if (batch.size === 0) return this.flushing;
    this.pending = new Map();
    const run = this.flushing.then(() =>
      Promise.all(
        [...batch].map(([topic, p]) =>
          this.store
            .apply(topic, this.options.instanceId, [...p.enters.values()], [...p.leaves.values()])
            .catch((err: unknown) => {
              // Enters come back with the next lease refresh; leaves expire with their lease.
              this.logger.warn(`presence update of "${topic}" failed: ${String(err)}`);
            }),
        ),
      ).then(() => undefined),
    );
    this.flushing = run;
    return run;
  }

  private queue(topic: string): PendingTopic {
    let p = this.pending.get(topic);
    if (p === undefined) this.pending.set(topic, (p = { enters: new Map(), leaves: new Map() }));
    if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, PRESENCE_TICK_MS);
      this.flushTimer.unref();
    }
    return p;
  }

  /** Collects a reported batch for this tick's dispatch of its topic. */
  private dispatch(batch: PresenceBatch): void {
    if (!this.observers.has(batch.topic) || batch.changes.length === 0) return;
    let r = this.reported.get(batch.topic);
    if (r === undefined) {
      this.reported.set(batch.topic, (r = { connections: 0, users: 0, subs: new Map() }));
    }
    r.connections = batch.connections;
    r.users = batch.users;
    for (const change of batch.changes) {
      const seen = r.subs.get(change.sub);
      if (seen === undefined) r.subs.set(change.sub, { first: change.kind, last: change.kind });
      else seen.last = change.kind;
    }
    if (this.dispatchTimer === undefined) {
      this.dispatchTimer = setTimeout(() => this.deliver(), PRESENCE_TICK_MS);
      this.dispatchTimer.unref();
    }
  }

  /** One tick's presence events, per topic: each net change, or one summary per observer. */
  private deliver(): void {
    this.dispatchTimer = undefined;
    const reported = this.reported;
    this.reported = new Map();
    for (const [topic, r] of reported) {
      const observers = this.observers.get(topic);
      if (observers === undefined) continue;
      // Joined and left (or left and came back) within the tick: nothing changed for observers.
      const changes = [...r.subs].filter(([, c]) => c.first === c.last);
      if (changes.length === 0) continue;
      const { connections, users } = r;
      if (changes.length * observers.size > PRESENCE_EVENTS_PER_TICK) {
        for (const member of observers) {
          member.notify('herald.presence', { topic, connections, users });
        }
        continue;
      }
      for (const member of observers) {
        for (const [sub, c] of changes) {
          member.notify(`herald.${c.last}`, { topic, sub, connections });
        }
      }
    }
  }

  /** Extends this instance's leases, after (never beside) the updates before it. */
  private refresh(): Promise<void> {
    const run = this.flushing.then(() => {
      const open = new Map<string, PresenceEntry[]>();
      for (const [topic, entries] of this.open) {
        // Entries still pending are stored by their own flush.
        const pending = this.pending.get(topic);
        const held = [...entries.values()].filter((e) => !pending?.enters.has(e.id));
        if (held.length > 0) open.set(topic, held);
      }
      return this.store.refresh(this.options.instanceId, open);
    });
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private every(ms: number, run: () => Promise<void>): void {
    const timer = setInterval(() => {
      run().catch((err: unknown) => this.logger.warn(`presence upkeep failed: ${String(err)}`));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

/** The request's `?presence=` value, if any. */
function presenceMode(req: IncomingMessage): string | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  if (q < 0 || !url.includes('presence=', q)) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get('presence') ?? undefined;
}

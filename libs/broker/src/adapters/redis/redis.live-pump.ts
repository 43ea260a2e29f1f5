import type { Logger } from '@nestjs/common';
import type { RedisClient } from '@herald/redis';
import type { ResetReason } from '../../broker.types';
import type { RedisKeys } from './redis.keys';
import { readStreamAfter } from './redis.stream-reader';
import { splitId, type SeqEvent } from './redis.replay';

/** Largest gap the instance backfills from the streams; beyond it, local streams are reset. */
const MAX_BACKFILL = 100_000;
/** Recently dispatched sequences remembered to recognise a sequence reused after a failover. */
const RECENT_SEQS = 4096;

/** What the pump hands its work to (the broker's local fan-out). */
export interface LiveTarget {
  /** Fans one event out to the local subscribers of its topic. */
  dispatch(event: SeqEvent): void;
  /** True when some local subscription matches `topic`. */
  hasLocalSubscriber(topic: string): boolean;
  /**
   * Local subscriptions touching `partition` (those matching `topics` when given) lost events
   * up to `toSeq` of it (or everything, with `toSeq` undefined): they get a reset.
   */
  reset(partition: number, reason: ResetReason, topics?: readonly string[], toSeq?: number): void;
  /** The epoch of `partition` changed (Redis lost its data). */
  epochChanged(partition: number): void;
}

/** The pump's view of one partition. */
export class LivePartition {
  /** Epoch of the partition as last seen (undefined until Redis answered once). */
  epoch: string | undefined;
  /** Last event dispatched locally (ms, seq); every lower seq was dispatched or backfilled. */
  lastMs = 0;
  lastSeq = 0;
  baselineKnown = false;
  /** The instance listens to this partition's channel (always with one partition). */
  subscribed = false;
  /** Sequence in Redis at the previous tick (stall detection). */
  lastRemoteSeq = 0;
  /** seq -> ms of recently dispatched events (sequence regression detection). */
  readonly recent = new Map<number, number>();

  constructor(
    readonly index: number,
    readonly keys: RedisKeys,
  ) {}
}

type LiveTask =
  | { readonly kind: 'event'; readonly event: SeqEvent }
  | { readonly kind: 'sync'; readonly partition: number };

/**
 * The live path: takes events from pub/sub and dispatches them strictly in sequence order per
 * partition, backfilling a gap (missed pub/sub message) from the streams of recently published
 * topics that local subscribers match, or resetting the affected subscribers when it cannot.
 */
export class RedisLivePump {
  private readonly queue: LiveTask[] = [];
  private pumping = false;
  private closed = false;

  constructor(
    private readonly cmd: RedisClient,
    readonly partitions: readonly LivePartition[],
    private readonly target: LiveTarget,
    private readonly logger: Logger,
  ) {}

  close(): void {
    this.closed = true;
  }

  /** Queues a live event (already parsed from its channel). */
  event(event: SeqEvent, epoch: string): void {
    const part = this.partitions[event.partition];
    if (!part.subscribed) return;
    this.adoptEpoch(part, epoch);
    this.enqueue({ kind: 'event', event });
  }

  /** Queues a catch-up with the partition's head (after a reconnect, a stall, a subscribe). */
  sync(partition: number): void {
    this.enqueue({ kind: 'sync', partition });
  }

  private enqueue(task: LiveTask): void {
    if (this.closed) return;
    this.queue.push(task);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const task = this.queue[0];
        const part = this.partitions[task.kind === 'sync' ? task.partition : task.event.partition];
        if (part.subscribed) {
          if (!part.baselineKnown && !(await this.loadBaseline(part))) return;
          if (task.kind === 'sync') {
            await this.syncToRemote(part);
          } else {
            const e = task.event;
            const seen = part.recent.get(e.seq);
            if (seen !== undefined && seen !== e.ms) this.onRegression(part, e.ms, e.seq - 1);
            if (e.seq > part.lastSeq + 1) await this.backfill(part, e.seq - 1);
            if (e.seq > part.lastSeq) this.dispatch(part, e);
          }
        }
        this.queue.shift();
      }
    } catch (err) {
      this.logger.warn(`live path: ${errorText(err)}`);
    } finally {
      this.pumping = false;
    }
  }

  /** Reads the partition's head: what was published before this instance listened is not live. */
  async loadBaseline(part: LivePartition): Promise<boolean> {
    if (this.cmd.status !== 'ready') return false;
    try {
      const [epoch, last] = await this.cmd.mget(part.keys.epoch, part.keys.last);
      if (epoch !== null) this.adoptEpoch(part, epoch);
      if (last) [part.lastMs, part.lastSeq] = splitId(last);
      else [part.lastMs, part.lastSeq] = [0, 0];
      part.baselineKnown = true;
      part.lastRemoteSeq = part.lastSeq;
      return true;
    } catch {
      return false;
    }
  }

  /** Catches up with the partition's counter (after a reconnect, or a stalled subscription). */
  private async syncToRemote(part: LivePartition): Promise<void> {
    if (this.cmd.status !== 'ready') return;
    const [epoch, last] = await this.cmd.mget(part.keys.epoch, part.keys.last);
    if (epoch !== null) this.adoptEpoch(part, epoch);
    if (!last) return;
    const [ms, seq] = splitId(last);
    if (seq < part.lastSeq) this.onRegression(part, ms, seq);
    else if (seq > part.lastSeq) await this.backfill(part, seq);
  }

  /**
   * The sequence went back (a failover lost writes the replica never got): events this instance
   * delivered after `seq` are gone and their numbers will be reused, so local streams reset.
   */
  private onRegression(part: LivePartition, ms: number, seq: number): void {
    this.logger.warn(
      `Redis sequence went back from ${part.lastSeq} to ${seq} (failover lost writes): resetting local streams`,
    );
    part.recent.clear();
    part.lastSeq = seq;
    part.lastMs = ms;
    this.target.reset(part.index, 'history-expired');
  }

  private dispatch(part: LivePartition, event: SeqEvent): void {
    part.lastSeq = event.seq;
    part.lastMs = event.ms;
    part.recent.set(event.seq, event.ms);
    if (part.recent.size > RECENT_SEQS)
      part.recent.delete(part.recent.keys().next().value as number);
    this.target.dispatch(event);
  }

  /**
   * Delivers, in order, the events after the last dispatched one up to `toSeq`, read from the
   * streams of recently published topics that local subscribers match. Subscribers of a topic
   * whose missed events are no longer retained get a reset.
   */
  private async backfill(part: LivePartition, toSeq: number): Promise<void> {
    const epoch = part.epoch;
    const gap = toSeq - part.lastSeq;
    if (epoch === undefined || gap > MAX_BACKFILL) {
      this.target.reset(part.index, 'history-expired');
      part.lastSeq = toSeq;
      return;
    }
    const recent = await this.cmd.zrangebyscore(part.keys.topics, part.lastMs, '+inf');
    const wanted = recent.filter((t) => this.target.hasLocalSubscriber(t));
    const events: SeqEvent[] = [];
    const expired: string[] = [];
    for (const topic of wanted) {
      const read = await readStreamAfter(this.cmd, part.keys.stream(topic), {
        ms: part.lastMs,
        seq: part.lastSeq,
        most: gap,
        epoch,
        topic,
        partition: part.index,
      });
      if (read === 'expired') {
        expired.push(topic);
        continue;
      }
      for (const e of read) if (e.seq <= toSeq) events.push(e);
    }
    events.sort((a, b) => a.seq - b.seq);
    if (events.length > 0) this.logger.log(`backfilled ${events.length} missed live events`);
    for (const e of events) if (e.seq > part.lastSeq) this.dispatch(part, e);
    // Resets go after the backfilled events and move each subscriber's position to `toSeq`, so
    // no older event follows a reset (the client's lastEventId never goes backwards).
    if (expired.length > 0) this.target.reset(part.index, 'history-expired', expired, toSeq);
    if (part.lastSeq < toSeq) part.lastSeq = toSeq;
  }

  /** Takes the partition's epoch; a change after the first means Redis lost its data. */
  adoptEpoch(part: LivePartition, epoch: string): void {
    if (part.epoch === undefined) {
      part.epoch = epoch;
      this.target.epochChanged(part.index);
    } else if (epoch !== part.epoch) {
      this.logger.warn('Redis key space changed (data lost?): resetting local streams');
      part.epoch = epoch;
      part.lastSeq = 0;
      part.lastMs = 0;
      part.recent.clear();
      this.target.epochChanged(part.index);
      this.target.reset(part.index, 'history-expired');
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

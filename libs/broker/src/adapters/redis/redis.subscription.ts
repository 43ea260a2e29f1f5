import type { TopicFilter } from '@herald/topics';
import type { BrokerAttachment } from '../../broker.port';
import type { BrokerMessage, ResetReason } from '../../broker.types';
import { formatPartitionedCursor } from './redis.keys';
import type { SeqEvent } from './redis.replay';

/** Live events one resume buffers per partition while it replays; past it, it reads them from history. */
export const MAX_REPLAY_LIVE_BUFFER = 1024;

/** What a subscription delivers to: an rxjs Subscriber or an attached sink. */
export interface SubscriptionSink {
  readonly closed: boolean;
  next(message: BrokerMessage): void;
  complete(): void;
  hasRoom(): boolean;
}

/** A subscription's position in one partition it touches. */
export class PartitionPosition {
  /** Highest sequence handed to the subscriber (or covered by a reset), and its ms. */
  maxSeq = 0;
  lastMs = 0;
  /** Live events held while the replay of this partition runs; `undefined` once live. */
  buffer: SeqEvent[] | undefined;
  /** The buffer passed {@link MAX_REPLAY_LIVE_BUFFER}: its events are read from history. */
  overflowed = false;
}

/** How a subscription names its position (one partition: the event's own id). */
export interface CursorContext {
  /** Number of partitions. */
  readonly count: number;
  /** Digest of the partitions' epochs (partitioned cursors). */
  fingerprint(): string;
  /** The instance's position in each partition (what live dispatch has reached). */
  current(): readonly (number | undefined)[];
}

/**
 * One subscription of the Redis broker: its filters, its position in each partition it touches
 * (concrete topics touch their partition, patterns touch all), and the live buffers of the
 * partitions it is replaying.
 */
export class RedisSubscription implements BrokerAttachment {
  /** Positions by partition; `undefined` for partitions none of its filters can match. */
  readonly parts: (PartitionPosition | undefined)[];
  teardown: (() => void) | undefined;
  /** A reset was sent during the current resume (one reset covers every partition's gap). */
  resetSent = false;
  private waiting: (() => void)[] = [];
  private stopped = false;

  constructor(
    readonly filters: readonly TopicFilter[],
    readonly sink: SubscriptionSink,
    touched: readonly number[],
    private readonly context: CursorContext,
  ) {
    this.parts = new Array<PartitionPosition | undefined>(context.count).fill(undefined);
    for (const p of touched) this.parts[p] = new PartitionPosition();
  }

  get closed(): boolean {
    return this.stopped || this.sink.closed;
  }

  /** Partitions this subscription touches. */
  touched(): number[] {
    const out: number[] = [];
    this.parts.forEach((p, i) => p && out.push(i));
    return out;
  }

  /** A live event from the pump: handed on, or held while its partition replays. */
  deliver(event: SeqEvent): void {
    const pos = this.parts[event.partition];
    if (pos === undefined) return;
    if (pos.buffer) {
      if (pos.overflowed) return;
      if (pos.buffer.length >= MAX_REPLAY_LIVE_BUFFER) {
        pos.buffer = [];
        pos.overflowed = true;
        return;
      }
      pos.buffer.push(event);
      return;
    }
    this.emit(event);
  }

  /** Hands one event on (dropped when at or below what was handed in its partition). */
  emit(event: SeqEvent): void {
    const pos = this.parts[event.partition];
    // Also drops the repeats when several filters of one subscription match.
    if (pos === undefined || event.seq <= pos.maxSeq || this.closed) return;
    pos.maxSeq = event.seq;
    pos.lastMs = event.ms;
    this.sink.next(this.context.count === 1 ? event : this.withOwnId(event));
  }

  /**
   * A partitioned event's id for this subscription: the live event's shared id (the instance's
   * position in every partition) when it covers no more and no less than this subscription has
   * seen in the partitions it touches, else a copy with this subscription's position (while a
   * partition replays, or right after a replay read past the live pump).
   */
  private withOwnId(event: SeqEvent): SeqEvent {
    const shared = event.vector;
    let same = shared !== undefined;
    const seqs = this.parts.map((pos, q) => {
      const v = shared?.[q];
      if (pos === undefined) return v;
      const own =
        pos.buffer === undefined && v !== undefined ? Math.max(v, pos.maxSeq) : pos.maxSeq;
      if (own !== v) same = false;
      return own;
    });
    if (same) return event;
    return {
      ...event,
      id: formatPartitionedCursor(this.context.fingerprint(), seqs, event.partition),
      vector: seqs,
    };
  }

  /** This subscription's cursor now (for a reset): its own positions, the instance's elsewhere. */
  cursor(): string {
    const current = this.context.current();
    return formatPartitionedCursor(
      this.context.fingerprint(),
      this.parts.map((pos, q) => (pos === undefined ? current[q] : pos.maxSeq)),
    );
  }

  /** Resolves once the sink has room (undefined when it has now). */
  room(): Promise<void> | undefined {
    if (this.closed || this.sink.hasRoom()) return undefined;
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  resume(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w();
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

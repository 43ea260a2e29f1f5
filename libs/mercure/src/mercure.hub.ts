import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  Broker,
  type BrokerAttachment,
  type BrokerEvent,
  type BrokerMessage,
  type BrokerSink,
  type IdempotencyKey,
} from '@herald/broker';
import type { TopicFilter } from '@herald/topics';
import { MercureIdStore } from './mercure.id-store';
import { SelectorIndex, type MercureSelector } from './mercure.selector';
import {
  MERCURE_EVENT_TYPE,
  MERCURE_TOPIC,
  deliveryOf,
  encodeUpdate,
  type MercureDelivery,
  type MercureUpdate,
} from './mercure.update';

/** The broker filter of the hub's one internal topic. */
export const MERCURE_FILTER: TopicFilter = {
  raw: MERCURE_TOPIC,
  kind: 'topic',
  segments: [MERCURE_TOPIC],
};

/** Prefix of the ids a stream carries before its first update (they name a broker cursor). */
export const CURSOR_ID_PREFIX = 'urn:herald:cursor:';

/** How many of its newest deliveries a catching-up stream remembers to meet the feed ahead. */
const MAX_AHEAD = 4096;

/** Most shared-feed events a catching-up stream may hold before it is cut (it resumes later). */
const MAX_CATCH_UP_BUFFER = 10_000;

/** Who may read what, for one stream. */
export interface MercureReader {
  /** The stream's routing selectors. */
  readonly selectors: readonly MercureSelector[];
  /** True when the stream may receive a private update about `topics`. */
  canReadPrivate(topics: readonly string[]): boolean;
}

/**
 * The Mercure hub of this instance: publishes updates to the one internal topic, and fans them
 * out to Mercure streams through one shared broker subscription and a {@link SelectorIndex}
 * (exact selectors: one hash lookup per update topic; templates and URL patterns, compiled once
 * per subscription, are tested per update). A new stream first reads the broker from its cursor
 * on its own attachment (replay, then live) while the shared feed buffers for it; once both
 * have seen the same event the own attachment is dropped and the stream joins the index, with
 * no gap and no duplicate. Each broker event is decoded and framed once per instance.
 */
@Injectable()
export class MercureHub implements OnModuleDestroy {
  private readonly logger = new Logger('MercureHub');
  private readonly index = new SelectorIndex<HubStream>();
  private readonly catchingUp = new Set<HubStream>();
  private readonly live = new Set<HubStream>();
  private feed: BrokerAttachment | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly ids: MercureIdStore,
  ) {}

  /**
   * Stores an update (then it is delivered hub-wide) and records its id for resumes.
   * @throws BrokerError when the broker refused it (nothing was published).
   */
  async publish(
    update: MercureUpdate,
    options: { idempotencyKey?: IdempotencyKey; fingerprint?: string; traceparent?: string } = {},
  ): Promise<{ id: string; cursor: string; duplicate: boolean }> {
    const result = await this.broker.publish(
      [{ topic: MERCURE_TOPIC, type: MERCURE_EVENT_TYPE, data: encodeUpdate(update) }],
      options,
    );
    const cursor = result.ids[0];
    if (!result.duplicate) {
      try {
        await this.ids.record(update.id, cursor);
      } catch (err) {
        // Stored and delivered; only a resume from this very id will start live instead.
        this.logger.warn(`update ${update.id} stored, but its id was not recorded: ${String(err)}`);
      }
    }
    return { id: update.id, cursor, duplicate: result.duplicate };
  }

  /** Streams currently attached on this instance (for tests and metrics). */
  get streams(): number {
    return this.catchingUp.size + this.live.size;
  }

  /**
   * Attaches a Mercure stream: updates after `cursor` (default: now) its reader wants, handed to
   * `sink` as Herald events with their Mercure frames. Unsubscribing detaches it.
   */
  attach(reader: MercureReader, cursor: string | undefined, sink: BrokerSink): BrokerAttachment {
    this.ensureFeed();
    const stream = new HubStream(this, reader, sink);
    this.catchingUp.add(stream);
    const own = this.broker.attach(
      [MERCURE_FILTER],
      { cursor: cursor ?? this.broker.nowCursor() },
      {
        next: (message) => stream.fromOwn(message),
        error: (err) => stream.fail(err),
        complete: () => stream.end(),
        ...(sink.hasRoom !== undefined ? { hasRoom: () => sink.hasRoom?.() ?? true } : {}),
      },
    );
    stream.setOwn(own);
    return {
      unsubscribe: () => this.detach(stream),
      resume: () => stream.resumeOwn(),
    };
  }

  /** @internal The stream caught up with the shared feed: it is now served by the index. */
  promote(stream: HubStream): void {
    if (!this.catchingUp.delete(stream)) return;
    this.live.add(stream);
    for (const s of stream.reader.selectors) this.index.add(s, stream);
  }

  /** @internal */
  detach(stream: HubStream): void {
    stream.stopOwn();
    this.catchingUp.delete(stream);
    if (this.live.delete(stream)) {
      for (const s of stream.reader.selectors) this.index.remove(s, stream);
    }
  }

  onModuleDestroy(): void {
    this.feed?.unsubscribe();
    this.feed = undefined;
  }

  private ensureFeed(): void {
    if (this.feed !== undefined) return;
    const sink: BrokerSink = {
      next: (message) => this.onFeed(message),
      error: (err) => this.feedLost(err),
      complete: () => this.feedLost(undefined),
    };
    this.feed = this.broker.attach([MERCURE_FILTER], {}, sink);
  }

  private onFeed(message: BrokerMessage): void {
    if (message.kind === 'reset') {
      for (const s of [...this.live]) s.reset(message.reason, message.cursor);
      return;
    }
    if (this.catchingUp.size > 0) for (const s of [...this.catchingUp]) s.fromFeed(message);
    const delivery = deliveryOf(message);
    if (delivery === undefined || this.index.size === 0) return;
    this.index.forEachMatch(delivery.update.topics, (s) => s.deliverLive(delivery));
  }

  /** The shared subscription ended: every stream ends (clients reconnect and resume). */
  private feedLost(err: unknown): void {
    this.feed = undefined;
    if (err !== undefined) {
      this.logger.error(`Mercure feed lost: ${err instanceof Error ? err.message : 'error'}`);
    }
    for (const s of [...this.live, ...this.catchingUp]) {
      this.detach(s);
      s.end();
    }
  }
}

/** One Mercure stream on the hub. */
class HubStream {
  private own: BrokerAttachment | undefined;
  private ownStopped = false;
  /** Shared-feed events seen while catching up, and their positions. */
  private buffer: BrokerEvent[] = [];
  private buffered = new Map<string, number>();
  /** Cursors the own attachment delivered (to find the seam when it runs ahead of the feed). */
  private delivered = new Set<string>();
  /** Cursors delivered by the own attachment the feed has not passed yet (dropped from it). */
  private skip: Set<string> | undefined;
  private state: 'catching-up' | 'live' | 'over' = 'catching-up';

  constructor(
    private readonly hub: MercureHub,
    readonly reader: MercureReader,
    private readonly sink: BrokerSink,
  ) {}

  setOwn(own: BrokerAttachment): void {
    if (this.ownStopped) own.unsubscribe();
    else this.own = own;
  }

  stopOwn(): void {
    this.ownStopped = true;
    const own = this.own;
    this.own = undefined;
    own?.unsubscribe();
  }

  resumeOwn(): void {
    this.own?.resume?.();
  }

  fromOwn(message: BrokerMessage): void {
    if (this.state !== 'catching-up') return;
    if (message.kind === 'reset') {
      this.reset(message.reason, message.cursor);
      return;
    }
    const at = this.buffered.get(message.id);
    if (at !== undefined) {
      // The feed has this event too: from here on the feed serves the stream.
      this.goLive();
      for (let i = at; i < this.buffer.length; i++) this.offer(this.buffer[i]);
      this.buffer = [];
      this.buffered.clear();
      return;
    }
    this.delivered.add(message.id);
    // Only the newest deliveries can be ahead of the feed: keep a bounded window of them.
    if (this.delivered.size > MAX_AHEAD) {
      const oldest = this.delivered.values().next();
      if (oldest.done !== true) this.delivered.delete(oldest.value);
    }
    this.offer(message);
  }

  fromFeed(event: BrokerEvent): void {
    if (this.state !== 'catching-up') return;
    if (this.delivered.has(event.id)) {
      // The own attachment ran ahead of the feed: drop what it already delivered.
      // Kept in `skip` (this very event too: the index hands it to the stream right after).
      this.skip = this.delivered;
      this.delivered = new Set();
      this.buffer = [];
      this.buffered.clear();
      this.goLive();
      return;
    }
    if (this.buffer.length >= MAX_CATCH_UP_BUFFER) {
      this.fail(new Error('Mercure stream could not catch up with the hub'));
      return;
    }
    this.buffered.set(event.id, this.buffer.length);
    this.buffer.push(event);
  }

  deliverLive(delivery: MercureDelivery): void {
    if (this.state !== 'live') return;
    const skip = this.skip;
    if (skip !== undefined) {
      if (skip.delete(delivery.cursor)) return;
      // The feed passed every event the own attachment delivered.
      this.skip = undefined;
    }
    this.hand(delivery);
  }

  reset(reason: 'history-expired' | 'unknown-cursor', cursor: string): void {
    if (this.state === 'over') return;
    this.sink.next({ kind: 'reset', reason, cursor: `${CURSOR_ID_PREFIX}${cursor}` });
  }

  fail(err: unknown): void {
    if (this.state === 'over') return;
    this.state = 'over';
    this.hub.detach(this);
    this.sink.error(err);
  }

  end(): void {
    if (this.state === 'over') return;
    this.state = 'over';
    this.hub.detach(this);
    this.sink.complete();
  }

  private goLive(): void {
    this.state = 'live';
    this.stopOwn();
    this.delivered.clear();
    this.hub.promote(this);
  }

  private offer(event: BrokerEvent): void {
    const delivery = deliveryOf(event);
    if (delivery === undefined) return;
    const topics = delivery.update.topics;
    if (!this.reader.selectors.some((s) => topics.some((t) => s.matches(t)))) return;
    this.hand(delivery);
  }

  private hand(delivery: MercureDelivery): void {
    if (delivery.update.private && !this.reader.canReadPrivate(delivery.update.topics)) return;
    this.sink.next(delivery.event);
  }
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import { Observable, type Subscriber, type TeardownLogic } from 'rxjs';
import type { BrokerAttachment, BrokerEvent, BrokerSink } from '@herald/broker';
import type { TopicFilter } from '@herald/topics';
import type { StreamPrincipal } from './stream.ports';

/**
 * One event of a Herald stream: `id` (a cursor the client resumes from), `type`, `data` (JSON
 * text, already serialized). The pipeline frames each event object once and writes the same
 * bytes to every subscriber; an operator that returns a new object costs one framing per
 * subscriber.
 */
export type HeraldEvent = BrokerEvent;

/**
 * How a stream of another wire dialect (e.g. Mercure) opens, decided by its source instead of
 * Herald's rules: see {@link StreamDialect.open}.
 */
export interface DialectOpening {
  /** Who holds the stream (expiry and revocation are then checked as for any stream). */
  readonly principal: StreamPrincipal;
  /** Broker cursor to resume after (undefined: live only). */
  readonly cursor: string | undefined;
  /** The id the client sees until its first event (drain, shed and control frames carry it). */
  readonly clientId: string | undefined;
  /** What the admin API lists as the stream's topics. */
  readonly topics: readonly string[];
  /** Extra response headers of the opened stream. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A route's own protocol dialect. When a {@link StreamSource} has one, the pipeline skips
 * Herald's topic and `Last-Event-ID` parsing and its `StreamAuthorization.authorize`, and asks
 * {@link open} instead; everything else (admission, caps, shed, heartbeats, revalidation, drain,
 * registry, slow-consumer cut, metrics) is the same. A dialect frames its events itself by
 * registering each event's bytes once with `withFrame` (shared by every subscriber).
 */
export interface StreamDialect {
  /**
   * Validates and authorizes the request, and resolves where it resumes.
   * @throws the dialect's domain errors (answered by the exception filter: 400/401/403...).
   */
  open(req: IncomingMessage): Promise<DialectOpening>;
}

/** What a route's stream subscribes to; the pipeline adds the client's cursor. */
export interface StreamSource {
  /** Raw topics or patterns, validated by the pipeline (400 on a bad one). */
  readonly topics: readonly string[];
  /** Set by a route speaking another wire dialect (see {@link StreamDialect}). */
  readonly dialect?: StreamDialect;
  /** Attaches `sink` to the broker from `cursor` (replay, then live). */
  attach(
    filters: readonly TopicFilter[],
    cursor: string | undefined,
    sink: BrokerSink,
  ): BrokerAttachment;
}

/** The stream pipeline's side of a subscription made while it runs a route. */
export interface StreamClaimant {
  claim(source: StreamSource, downstream: Subscriber<HeraldEvent>): TeardownLogic;
}

/**
 * Set by the pipeline around a stream route's handler: the Herald stream the handler returns
 * (however a team pipes it) hands itself to the pipeline when Nest subscribes to it.
 */
export const streamScope = new AsyncLocalStorage<StreamClaimant>();

/**
 * The Observable a stream route returns (`StreamsService.events(...)`): the events of some
 * topics. Under a `@StreamRoute` the pipeline owns it (admission, replay from the client's
 * `Last-Event-ID`, heartbeats, expiry, the registry, drain); `map`/`filter` work as on any
 * Observable. Subscribed elsewhere, it streams live events of valid topics (resets dropped).
 */
export class HeraldStream extends Observable<HeraldEvent> {
  constructor(
    source: StreamSource,
    outside: (subscriber: Subscriber<HeraldEvent>) => TeardownLogic,
  ) {
    super((subscriber) => {
      const claimant = streamScope.getStore();
      return claimant === undefined ? outside(subscriber) : claimant.claim(source, subscriber);
    });
  }
}

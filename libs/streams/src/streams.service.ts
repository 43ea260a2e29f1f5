import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Broker } from '@herald/broker';
import { ConnectionRegistry } from './connection.registry';
import { DueTimers } from './due.timers';
import { HeraldStream, type StreamSource } from './herald.stream';
import { respondShed, type ShedReason, type StreamShedError } from './shed.responder';
import type { SseConnection } from './sse.connection';
import { HEARTBEAT_FRAME, frameEvent, jitter } from './sse.frame';
import { STREAMS_MODULE_OPTIONS } from './streams.module-definition';
import { StreamsObserver } from './streams.observer';
import type { StreamsModuleOptions } from './streams.options';
import { NO_CURSOR, parseSubscription } from './subscription.request';
import { WriteScheduler } from './write.scheduler';

/** Target pace of drain closes; fewer streams drain faster than the grace window. */
export const DRAIN_RATE_PER_S = 200;

/**
 * Share of SHUTDOWN_GRACE_MS by which every drained stream must have taken its `herald.drain`
 * (closes are spread over the first 90%); a stream still behind then is cut as a slow consumer.
 */
export const DRAIN_FLUSH_RATIO = 0.95;

/**
 * What every stream of this instance shares: the Herald streams routes return
 * ({@link StreamsService.events}), the write scheduler, heartbeats from one timer, expiry timers,
 * sheds, and drain on shutdown. One stream's lifecycle is the {@link StreamPipeline}'s.
 */
@Injectable()
export class StreamsService implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(StreamsService.name);
  /** Coalesces every connection's writes (one flush per connection per tick). */
  readonly scheduler: WriteScheduler;
  private readonly heartbeat: NodeJS.Timeout;
  private drainPromise: Promise<void> | undefined;
  /** `herald.token-expiring` warnings, one timer per distinct due time (not per stream). */
  private readonly expiryWarnings = new DueTimers<SseConnection>((connection) => {
    if (connection.expiresAt !== undefined) {
      connection.sendControl('herald.token-expiring', { expiresAt: connection.expiresAt });
    }
  });
  /** Ends at `exp`, one timer per distinct `exp` (JWT: whole seconds) shared by its streams. */
  private readonly expiries = new DueTimers<SseConnection>((connection) =>
    connection.end('token-expired'),
  );

  constructor(
    private readonly broker: Broker,
    readonly registry: ConnectionRegistry,
    @Inject(STREAMS_MODULE_OPTIONS) readonly options: StreamsModuleOptions,
    private readonly observer: StreamsObserver,
  ) {
    this.scheduler = new WriteScheduler(options.batchLingerMs);
    const period = Math.max(50, Math.floor(options.heartbeatMs / 2));
    this.heartbeat = setInterval(() => this.beat(period), period);
    this.heartbeat.unref();
  }

  /** True once drain has begun: new streams are shed and readiness fails. */
  get draining(): boolean {
    return this.drainPromise !== undefined;
  }

  /**
   * The events of `topics` as the Observable a stream route (`@StreamRoute`) returns. Under the
   * route the pipeline validates the topics and the client's cursor (400), authorizes them, and
   * replays from `Last-Event-ID` (or `?lastEventId=`) before live events; `map`/`filter` it
   * freely. Subscribed outside a stream route it streams live events only.
   */
  events(topics: readonly string[]): HeraldStream {
    const broker = this.broker;
    const source: StreamSource = {
      topics,
      attach: (filters, cursor, sink) =>
        broker.attach(filters, cursor === undefined ? {} : { cursor }, sink),
    };
    return new HeraldStream(source, (subscriber) => {
      const request = parseSubscription(
        { topics, headerCursor: undefined, queryCursor: undefined },
        this.options.maxTopicsPerConnection,
        (c) => broker.isWellFormedCursor(c),
      );
      return broker.attach(
        request.filters,
        {},
        {
          next: (message) => {
            if (message.kind === 'event') subscriber.next(message);
          },
          error: (err: unknown) => subscriber.error(err),
          complete: () => subscriber.complete(),
        },
      );
    });
  }

  /**
   * Warns `tokenExpiryWarningMs` before `expiresAt` (at once if already inside that window),
   * then ends the stream at `expiresAt`: what was queued before is flushed, nothing after.
   */
  scheduleExpiry(connection: SseConnection, expiresAt: number): void {
    connection.expiresAt = expiresAt;
    const warnAt = expiresAt - this.options.tokenExpiryWarningMs;
    this.expiryWarnings.add(warnAt, connection);
    this.expiries.add(expiresAt, connection);
    connection.onClose(() => {
      this.expiryWarnings.delete(warnAt, connection);
      this.expiries.delete(expiresAt, connection);
    });
  }

  /**
   * Refuses a stream for now per SHED_MODE, with a retry hint jittered over RETRY_MS above
   * `max(RETRY_MS, minRetryMs)`. Every shed goes through here (it is what telemetry counts).
   * The `herald.shed` id is the client's own `cursor`, or {@link NO_CURSOR} for a client that
   * had none: never a position of the broker's, which may not be one it can honour yet.
   * @returns undefined when answered as a stream (`herald.shed`), else the
   *   {@link StreamShedError} the caller raises (429/503 with `Retry-After` from the filter).
   */
  shed(
    req: IncomingMessage,
    res: ServerResponse,
    reason: ShedReason,
    cursor?: string,
    minRetryMs = 0,
  ): StreamShedError | undefined {
    this.observer.shed(reason);
    const retryAfterMs = jitter(Math.max(this.options.retryMs, minRetryMs), this.options.retryMs);
    return respondShed(req, res, this.options.shedMode, reason, retryAfterMs, cursor ?? NO_CURSOR);
  }

  /**
   * Stops taking streams and closes every open one with `herald.drain` and a jittered `retry:`.
   * Closes are spread at about {@link DRAIN_RATE_PER_S} per second, within 90% of
   * SHUTDOWN_GRACE_MS, so the reconnect wave reaches the other instances smoothly. Resolves once
   * every stream's `herald.drain` (after all output before it) has been handed to the kernel;
   * a stream still behind at {@link DRAIN_FLUSH_RATIO} of the window is cut as a slow consumer.
   */
  drain(): Promise<void> {
    const count = this.registry.size;
    const grace = this.options.shutdownGraceMs;
    const window = Math.floor(grace * 0.9);
    this.drainPromise ??= this.drainAll(
      Math.min(window, (count * 1000) / DRAIN_RATE_PER_S),
      Date.now() + Math.floor(grace * DRAIN_FLUSH_RATIO),
    );
    return this.drainPromise;
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
  }

  /** Closes whatever is still open (e.g. `app.close()` without a drain) so shutdown never hangs. */
  async beforeApplicationShutdown(): Promise<void> {
    this.drainPromise ??= this.drainAll(0, undefined);
    await this.drainPromise;
  }

  private async drainAll(spreadMs: number, flushDeadline: number | undefined): Promise<void> {
    const connections = [...this.registry.values()];
    if (connections.length > 0) {
      this.logger.log(`draining ${connections.length} streams over ${spreadMs} ms`);
    }
    await Promise.all(
      connections.map(
        (connection) =>
          new Promise<void>((resolve) => {
            const close = () => {
              void this.closeForDrain(connection, flushDeadline).then(() => resolve());
            };
            if (spreadMs <= 0) close();
            else setTimeout(close, Math.random() * spreadMs);
          }),
      ),
    );
  }

  /** Ends with `herald.drain`; with a deadline, waits (until then) for it to reach the kernel. */
  private async closeForDrain(
    connection: SseConnection,
    flushDeadline: number | undefined,
  ): Promise<void> {
    if (connection.closed) return;
    const retryMs = jitter(this.options.retryMs, this.options.retryMs);
    const frame = frameEvent(
      connection.cursor,
      'herald.drain',
      JSON.stringify({ reason: 'shutdown', retryAfterMs: retryMs }),
      retryMs,
    );
    if (flushDeadline === undefined) {
      connection.end('drain', frame);
      return;
    }
    const reason = await connection.endWhenWritten('drain', frame, flushDeadline);
    if (reason === 'slow-consumer') {
      this.logger.warn(`stream ${connection.id} did not take herald.drain in time: cut`);
    }
  }

  private beat(period: number): void {
    const now = Date.now();
    const due = now - period;
    for (const connection of this.registry.values()) {
      // A replay paced by a socket that took nothing for HEARTBEAT_MS: a slow consumer (its
      // heartbeats would not reach the cap).
      if (connection.stalledFor(now) >= this.options.heartbeatMs) connection.abort('slow-consumer');
      else if (connection.lastWriteAt <= due) connection.send(HEARTBEAT_FRAME);
    }
  }
}

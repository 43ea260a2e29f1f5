import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type MessageEvent,
  type OnModuleDestroy,
} from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { Broker, type BrokerMessage, type BrokerReset } from '@herald/broker';
import { clientGone } from './client.presence';
import { ConnectionRegistry } from './connection.registry';
import { acceptsGzip } from './content-encoding';
import { respondShed, type ShedReason } from './shed.responder';
import { SseConnection, type ConnectionMeta } from './sse.connection';
import { HEARTBEAT_FRAME, frameEvent, jitter } from './sse.frame';
import { STREAMS_MODULE_OPTIONS } from './streams.module-definition';
import { NoopStreamsObserver, StreamsObserver } from './streams.observer';
import type { StreamsModuleOptions } from './streams.options';
import {
  NO_CURSOR,
  parseSubscription,
  type RawSubscription,
  type SubscriptionRequest,
} from './subscription.request';
import { WriteScheduler } from './write.scheduler';

/** Target pace of drain closes; fewer streams drain faster than the grace window. */
export const DRAIN_RATE_PER_S = 200;

/** Identity of the client opening a stream. */
export interface StreamClient {
  readonly sub?: string;
  readonly ip: string;
  /**
   * When the client's credentials expire (token `exp`, epoch ms). The stream gets
   * `herald.token-expiring` `tokenExpiryWarningMs` before, then ends cleanly at this instant;
   * nothing is written after it. Undefined: the stream never expires (anonymous clients).
   */
  readonly expiresAt?: number;
  /** The request's id (X-Request-Id), for the connection's log lines. */
  readonly requestId?: string;
}

/**
 * Opens SSE streams on raw responses, feeds them from the {@link Broker}, sends heartbeats from
 * one shared timer, and drains them on shutdown.
 */
@Injectable()
export class StreamsService implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(StreamsService.name);
  private readonly scheduler: WriteScheduler;
  private readonly heartbeat: NodeJS.Timeout;
  private drainPromise: Promise<void> | undefined;
  private readonly observer: StreamsObserver;

  constructor(
    private readonly broker: Broker,
    readonly registry: ConnectionRegistry,
    @Inject(STREAMS_MODULE_OPTIONS) readonly options: StreamsModuleOptions,
    @Optional() observer?: StreamsObserver,
  ) {
    this.observer = observer ?? new NoopStreamsObserver();
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
   * Opens a stream on `res`: headers and `retry:` at once, then replay (if a cursor was given)
   * and live events. Sheds the request instead while draining.
   * @returns the connection, or `undefined` when the request was shed or its client has gone
   *   (nothing is registered or subscribed then).
   */
  open(
    req: IncomingMessage,
    res: ServerResponse,
    request: SubscriptionRequest,
    client: StreamClient,
  ): SseConnection | undefined {
    // The caller may have awaited (auth, admission): a response already closed would never
    // close the stream, which would then hold its slot and subscription forever.
    if (clientGone(req, res)) return undefined;
    if (this.draining) {
      this.shed(req, res, 'draining', request.cursor);
      return undefined;
    }
    const compressible = this.options.compression === 'gzip';
    const meta: ConnectionMeta = {
      sub: client.sub,
      ip: client.ip,
      topics: request.filters.map((f) => f.raw),
      requestId: client.requestId,
    };
    const connection = new SseConnection(
      res,
      meta,
      request.cursor ?? this.broker.nowCursor(),
      this.scheduler,
      this.options.maxBufferedBytes,
      this.observer,
      compressible && acceptsGzip(req),
    );
    connection.open(this.options.retryMs, compressible);
    this.registry.add(connection);
    this.observer.opened(connection);
    // Armed before the broker is attached: a replay delivered synchronously already honours exp.
    if (client.expiresAt !== undefined) this.scheduleExpiry(connection, client.expiresAt);
    let replayPending = request.cursor !== undefined;
    if (replayPending) {
      connection.onClose(() => {
        if (replayPending) this.observer.replayed(connection, 'ok');
        replayPending = false;
      });
    }
    connection.attach(
      this.broker.attach(
        request.filters,
        request.cursor === undefined ? {} : { cursor: request.cursor },
        {
          next: (message) => {
            if (replayPending) {
              replayPending = false;
              this.observeReplay(connection, message);
            }
            if (message.kind === 'event') connection.deliver(message);
            else this.reset(connection, message);
          },
          error: (err: unknown) => {
            this.logger.error(`stream ${connection.id} broker error: ${String(err)}`);
            connection.end('broker');
          },
          complete: () => connection.end('broker'),
        },
      ),
    );
    return connection;
  }

  /**
   * Validates topics and cursor exactly like `GET /events` (for a team's own endpoint).
   * @throws SubscriptionRequestError (a 400) on a bad topic, too many topics or a bad cursor.
   */
  parseRequest(raw: RawSubscription): SubscriptionRequest {
    return parseSubscription(raw, this.options.maxTopicsPerConnection, (c) =>
      this.broker.isWellFormedCursor(c),
    );
  }

  /**
   * The events of a validated subscription as Nest `MessageEvent`s, for a team's own `@Sse`
   * endpoint: every event has its `id` (a cursor: pass the client's `Last-Event-ID` back in
   * `request.cursor` to resume, on any instance with Redis), `type`, and `data` already
   * serialized (Nest writes strings as they are). Replay first, then live; a cursor that cannot
   * be honoured yields one `herald.reset` event first. Unsubscribing frees the subscription.
   */
  messageEvents(request: SubscriptionRequest): Observable<MessageEvent> {
    const source = this.broker.subscribe(
      request.filters,
      request.cursor === undefined ? {} : { cursor: request.cursor },
    );
    return source.pipe(
      map((message): MessageEvent =>
        message.kind === 'event'
          ? { id: message.id, type: message.type, data: message.data }
          : {
              id: message.cursor,
              type: 'herald.reset',
              data: JSON.stringify({ reason: message.reason }),
            },
      ),
    );
  }

  /**
   * Warns `tokenExpiryWarningMs` before `expiresAt` (at once if already inside that window),
   * then ends the stream at `expiresAt`: what was queued before is flushed, nothing after.
   */
  private scheduleExpiry(connection: SseConnection, expiresAt: number): void {
    connection.expiresAt = expiresAt;
    const warnIn = expiresAt - this.options.tokenExpiryWarningMs - Date.now();
    const warn = longTimeout(warnIn, () =>
      connection.sendControl('herald.token-expiring', { expiresAt }),
    );
    const end = longTimeout(expiresAt - Date.now(), () => connection.end('token-expired'));
    connection.onClose(() => {
      warn.cancel();
      end.cancel();
    });
  }

  /**
   * Refuses a stream for now per SHED_MODE, with a retry hint jittered over RETRY_MS above
   * `max(RETRY_MS, minRetryMs)`. Every shed goes through here (it is what telemetry counts).
   * The `herald.shed` id is the client's own `cursor`, or {@link NO_CURSOR} for a client that
   * had none: never a position of the broker's, which may not be one it can honour yet.
   */
  shed(
    req: IncomingMessage,
    res: ServerResponse,
    reason: ShedReason,
    cursor?: string,
    minRetryMs = 0,
  ): void {
    this.observer.shed(reason);
    const retryAfterMs = jitter(Math.max(this.options.retryMs, minRetryMs), this.options.retryMs);
    respondShed(req, res, this.options.shedMode, reason, retryAfterMs, cursor ?? NO_CURSOR);
  }

  /**
   * Stops taking streams and closes every open one with `herald.drain` and a jittered `retry:`.
   * Closes are spread at about {@link DRAIN_RATE_PER_S} per second, within 90% of
   * SHUTDOWN_GRACE_MS, so the reconnect wave reaches the other instances smoothly.
   */
  drain(): Promise<void> {
    const count = this.registry.size;
    const window = Math.floor(this.options.shutdownGraceMs * 0.9);
    this.drainPromise ??= this.drainAll(Math.min(window, (count * 1000) / DRAIN_RATE_PER_S));
    return this.drainPromise;
  }

  onModuleDestroy(): void {
    clearInterval(this.heartbeat);
  }

  /** Closes whatever is still open (e.g. `app.close()` without a drain) so shutdown never hangs. */
  async beforeApplicationShutdown(): Promise<void> {
    this.drainPromise ??= this.drainAll(0);
    await this.drainPromise;
  }

  private async drainAll(spreadMs: number): Promise<void> {
    const connections = [...this.registry.values()];
    if (connections.length > 0) {
      this.logger.log(`draining ${connections.length} streams over ${spreadMs} ms`);
    }
    await Promise.all(
      connections.map(
        (connection) =>
          new Promise<void>((resolve) => {
            const close = () => {
              this.closeForDrain(connection);
              resolve();
            };
            if (spreadMs <= 0) close();
            else setTimeout(close, Math.random() * spreadMs);
          }),
      ),
    );
  }

  private closeForDrain(connection: SseConnection): void {
    if (connection.closed) return;
    const retryMs = jitter(this.options.retryMs, this.options.retryMs);
    connection.end(
      'drain',
      frameEvent(
        connection.cursor,
        'herald.drain',
        JSON.stringify({ reason: 'shutdown', retryAfterMs: retryMs }),
        retryMs,
      ),
    );
  }

  /** The first message of a resume tells its outcome: a reset, or an event replayed. */
  private observeReplay(connection: SseConnection, first: BrokerMessage): void {
    if (first.kind === 'event') this.observer.replayed(connection, 'ok', first);
    else this.observer.replayed(connection, first.reason);
  }

  private reset(connection: SseConnection, reset: BrokerReset): void {
    connection.cursor = reset.cursor;
    connection.sendControl('herald.reset', { reason: reset.reason });
  }

  private beat(period: number): void {
    const due = Date.now() - period;
    for (const connection of this.registry.values()) {
      if (connection.lastWriteAt <= due) connection.send(HEARTBEAT_FRAME);
    }
  }
}

/** Longest delay `setTimeout` honours (larger ones fire at once). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A `setTimeout` for any delay (tokens may live longer than 24.8 days); negative runs at once. */
function longTimeout(delayMs: number, run: () => void): { cancel(): void } {
  let timer: NodeJS.Timeout;
  const arm = (remaining: number) => {
    timer = setTimeout(
      () => (remaining > MAX_TIMEOUT_MS ? arm(remaining - MAX_TIMEOUT_MS) : run()),
      Math.max(0, Math.min(remaining, MAX_TIMEOUT_MS)),
    );
    timer.unref();
  };
  arm(delayMs);
  return { cancel: () => clearTimeout(timer) };
}

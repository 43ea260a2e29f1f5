import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Observable, type Subscriber, type Subscription, type TeardownLogic } from 'rxjs';
import { Broker, type BrokerMessage, type BrokerSink } from '@herald/broker';
import { requestContext } from '@herald/telemetry';
import { clientGone } from './client.presence';
import { ConnectionRegistry } from './connection.registry';
import { acceptsGzip } from './content-encoding';
import {
  streamScope,
  type DialectOpening,
  type HeraldEvent,
  type HeraldStream,
  type StreamClaimant,
  type StreamSource,
} from './herald.stream';
import { attachLatest } from './latest.attach';
import { releaseHeaderStorage, releaseRoutingState } from './request-release';
import { SSE_HEADERS, SseConnection, type ConnectionMeta } from './sse.connection';
import {
  ClientAddress,
  StreamAdmission,
  StreamAuthorization,
  StreamPresence,
  type StreamClient,
  type StreamLease,
  type StreamPrincipal,
} from './stream.ports';
import { STREAMS_MODULE_OPTIONS } from './streams.module-definition';
import { StreamsObserver } from './streams.observer';
import type { StreamsModuleOptions } from './streams.options';
import { StreamsService } from './streams.service';
import {
  NO_CURSOR,
  parseSubscription,
  requestCursors,
  type SubscriptionRequest,
} from './subscription.request';

/** Starts the handler's part of a stream route (Nest's `CallHandler`). */
export interface StreamHandler {
  handle(): Observable<unknown>;
}

/**
 * Owns one stream from admission to close, for every stream route (`@StreamRoute`), Herald's
 * `GET /events` and a team's alike. In order: the route's guards and pipes have run (401/400);
 * the handler returns its {@link HeraldStream}; the topics and the client's cursor are validated
 * (400) and authorized ({@link StreamAuthorization}: 401/403); HEAD ends here; draining sheds;
 * {@link StreamAdmission} takes a connect token and a connection slot (or sheds per SHED_MODE);
 * the principal is revalidated (expiry, revocation); then headers and `retry:` go out at once,
 * the connection joins the registry (admin list/close, revocation, drain, heartbeats), expiry is
 * armed, and the broker replays from the cursor then streams live. Whether the client is still
 * there is checked after every await, and the slot is released on every path. A source with a
 * `StreamDialect` (e.g. Mercure) validates, authorizes and resolves its cursor itself in place of
 * the topic/cursor parsing and `authorize` step; every other step is the same.
 */
@Injectable()
export class StreamPipeline {
  private readonly logger = new Logger('StreamPipeline');

  constructor(
    readonly streams: StreamsService,
    readonly registry: ConnectionRegistry,
    readonly broker: Broker,
    readonly admission: StreamAdmission,
    readonly authorization: StreamAuthorization,
    readonly address: ClientAddress,
    @Inject(STREAMS_MODULE_OPTIONS) readonly options: StreamsModuleOptions,
    private readonly observer: StreamsObserver,
    @Optional() readonly presence?: StreamPresence,
  ) {}

  /**
   * Runs a stream route: an Observable that emits once (then completes) once the stream is open
   * (the connection owns it from then on, so Nest's per-request objects are freed), or when it
   * was answered without one (shed, HEAD), and errors (before any byte is written) with the
   * domain error of a refusal the exception filter answers. Unsubscribing before the stream
   * opened (the client left) frees everything.
   * `directAllowed`: nothing between the handler and the pipeline can see events (no inner
   * interceptor), so a Herald stream the handler returned as it is is written straight from
   * the broker to the connection; otherwise every event goes through the route's Observable.
   */
  run(
    req: IncomingMessage,
    res: ServerResponse,
    handler: StreamHandler,
    directAllowed = false,
  ): Observable<undefined> {
    return new Observable<undefined>((result) => {
      const session = new StreamSession(
        this,
        this.observer,
        this.logger,
        req,
        res,
        result,
        directAllowed,
      );
      session.start(handler);
      return () => session.cancel();
    });
  }
}

/** One stream route request, from the handler's subscription to the connection's close. */
class StreamSession implements StreamClaimant {
  private source: StreamSource | undefined;
  private downstream: Subscriber<HeraldEvent> | undefined;
  private handler: Subscription | undefined;
  private attachment: { unsubscribe(): void } | undefined;
  private connection: SseConnection | undefined;
  /** Set when the route's source speaks another dialect (see `StreamDialect`). */
  private opening: DialectOpening | undefined;
  private cancelled = false;
  private over = false;
  /** What the handler returned, until its Herald stream is claimed. */
  private returnedValue: unknown;
  /** Broker events go straight to the connection: the route returned its Herald stream as is. */
  private direct = false;
  /** The stream is open and owned by its connection: Nest's side of the request is over. */
  private detached = false;

  constructor(
    private readonly pipeline: StreamPipeline,
    private readonly observer: StreamsObserver,
    private readonly logger: Logger,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private result: Subscriber<undefined> | undefined,
    private readonly directAllowed: boolean,
  ) {}

  start(handler: StreamHandler): void {
    const subscription = streamScope.run(this, () =>
      handler.handle().subscribe({
        next: (value) => this.deliver(value),
        error: (err: unknown) => this.fail(err),
        complete: () => this.completed(),
      }),
    );
    if (this.over) subscription.unsubscribe();
    else this.handler = subscription;
  }

  /** The client left (Nest unsubscribed): stop wherever the session is. */
  cancel(): void {
    if (this.detached) return; // Nest let go once the stream opened; the connection owns it
    this.cancelled = true;
    this.connection?.abort('client');
    this.stop();
  }

  returned(value: unknown): void {
    this.returnedValue = value;
  }

  claim(
    source: StreamSource,
    downstream: Subscriber<HeraldEvent>,
    stream: HeraldStream,
  ): TeardownLogic {
    if (this.source !== undefined) {
      downstream.error(new Error('a stream route returns exactly one Herald stream'));
      return;
    }
    this.source = source;
    this.downstream = downstream;
    // No operator of the route sits between the broker and the connection: skip the chain.
    this.direct = this.directAllowed && stream === this.returnedValue;
    this.returnedValue = undefined;
    this.admit(source).catch((err: unknown) => this.fail(err));
    return () => {
      this.attachment?.unsubscribe();
      this.attachment = undefined;
    };
  }

  private gone(): boolean {
    return this.cancelled || clientGone(this.req, this.res);
  }

  private async admit(source: StreamSource): Promise<void> {
    const { pipeline, req, res } = this;
    const { streams, options, broker } = pipeline;
    // Guards awaited (the revocation check): a client that left meanwhile costs nothing more.
    if (this.gone()) return this.finish();
    let request: SubscriptionRequest;
    let principal: StreamPrincipal;
    if (source.dialect !== undefined) {
      // Another wire dialect validates, authorizes and resolves its resume point itself.
      const opening = await source.dialect.open(req);
      if (this.gone()) return this.finish();
      this.opening = opening;
      request = { filters: [], cursor: opening.cursor, latest: false };
      principal = opening.principal;
    } else {
      request = parseSubscription(
        { topics: source.topics, ...requestCursors(req) },
        options.maxTopicsPerConnection,
        (cursor) => broker.isWellFormedCursor(cursor),
      );
      // Checked on every (re)connect with the token presented now: a replay is authorized too.
      principal = pipeline.authorization.authorize(req, request.filters);
      pipeline.presence?.check(req, request.filters);
    }
    if (req.method === 'HEAD') {
      // Express routes HEAD to GET routes: answer the stream's headers, open nothing.
      res.writeHead(200, SSE_HEADERS);
      res.end();
      return this.finish();
    }
    const client: StreamClient = {
      ip: pipeline.address.ipOf(req),
      sub: principal.sub,
      expiresAt: principal.expiresAt,
      requestId: requestContext.getStore()?.requestId,
    };
    if (streams.draining) return this.shed('draining', request);
    const admission = await pipeline.admission.admit(client);
    if (!admission.admitted) {
      return this.shed(admission.reason, request, admission.retryAfterMs);
    }
    const { lease } = admission;
    // From here the slot is held: every way out that opens no stream releases it.
    let opening = false;
    try {
      if (this.gone()) return this.finish(); // the client left while it was being admitted
      // Admission awaited Redis: a revocation broadcast handled meanwhile found no stream to
      // close, and the token may have expired. Check both again before the stream exists.
      await pipeline.authorization.revalidate(principal);
      if (this.gone()) return this.finish();
      if (streams.draining) return this.shed('draining', request);
      if (this.over) return;
      opening = true;
    } finally {
      if (!opening) lease.release();
    }
    this.open(source, request, client, lease);
  }

  /** Headers and `retry:` at once, registry, expiry, then replay and live events. */
  private open(
    source: StreamSource,
    request: SubscriptionRequest,
    client: StreamClient,
    lease: StreamLease,
  ): void {
    const { pipeline, req, res } = this;
    const { options, streams } = pipeline;
    const compressible = options.compression === 'gzip';
    const opening = this.opening;
    const meta: ConnectionMeta = {
      sub: client.sub,
      ip: client.ip,
      topics: opening?.topics ?? request.filters.map((f) => f.raw),
      requestId: client.requestId,
    };
    const connection = new SseConnection(
      res,
      meta,
      opening !== undefined
        ? (opening.clientId ?? NO_CURSOR)
        : (request.cursor ?? pipeline.broker.nowCursor()),
      streams.scheduler,
      options.maxBufferedBytes,
      this.observer,
      compressible && acceptsGzip(req),
    );
    connection.open(options.retryMs, compressible, opening?.headers);
    this.connection = connection;
    pipeline.registry.add(connection);
    this.observer.opened(connection);
    connection.onClose(() => {
      lease.release();
      this.finish();
    });
    // Armed before the broker is attached: a replay delivered synchronously already honours exp.
    if (client.expiresAt !== undefined) streams.scheduleExpiry(connection, client.expiresAt);
    let replayPending = request.cursor !== undefined;
    if (replayPending) {
      connection.onClose(() => {
        if (replayPending) this.observer.replayed(connection, 'ok');
        replayPending = false;
      });
    }
    // The direct path writes each event as the route's chain would (an unmapped route's chain
    // passes it through unchanged); a mapped or filtered route's events go through its operators.
    const downstream = this.direct ? undefined : this.downstream;
    const sink: BrokerSink = {
      next: (message: BrokerMessage) => {
        if (replayPending) {
          replayPending = false;
          if (message.kind === 'event') this.observer.replayed(connection, 'ok', message);
          else this.observer.replayed(connection, message.reason);
        }
        // Events go through the route's operators; resets are the pipeline's own.
        if (message.kind === 'event') {
          if (downstream === undefined) connection.deliver(message);
          else downstream.next(message);
        } else {
          connection.cursor = message.cursor;
          connection.sendControl('herald.reset', { reason: message.reason });
        }
      },
      error: (err: unknown) => {
        this.logger.error(`stream ${connection.id} broker error: ${String(err)}`);
        connection.end('broker');
      },
      complete: () => connection.end('broker'),
      // A replay is read and written as the socket takes it (never queued in full).
      hasRoom: () => connection.hasRoom(),
    };
    if (connection.closed) return;
    const presence = pipeline.presence?.enter({
      id: connection.id,
      sub: client.sub,
      filters: request.filters,
      req,
      notify: (type, data) => connection.sendControl(type, data),
    });
    if (presence !== undefined) connection.onClose(() => presence.leave());
    const attachment = request.latest
      ? attachLatest(pipeline.broker, source, request.filters, sink, this.logger)
      : source.attach(request.filters, request.cursor, sink);
    this.attachment = attachment;
    // The connection resumes a paced replay as its socket drains, and unsubscribes at close.
    connection.attach(attachment);
    releaseRoutingState(req, res);
    this.detach();
    // After Nest's side completed (its interceptors may still have read headers on the way out),
    // and only on the direct path: a piped route's operators run per event for the stream's
    // life and may read the request (`@Req() req`, then `req.headers` or the principal).
    if (this.detached && this.direct) {
      releaseHeaderStorage(req, res);
      pipeline.authorization.release(req);
    }
  }

  /**
   * The stream is open: Nest's request completes now (its interceptor chain, handler promise,
   * disconnect listeners and per-request subjects are freed) rather than when the stream ends;
   * the connection's close hooks end it from here. On the direct path the route's Observable
   * chain carries nothing either, so it is let go too (the connection holds the attachment).
   */
  private detach(): void {
    if (this.over) return;
    this.detached = true;
    if (this.direct) {
      this.attachment = undefined;
      this.downstream = undefined;
      const handler = this.handler;
      this.handler = undefined;
      handler?.unsubscribe();
    }
    this.completeRequest();
  }

  /**
   * Completes Nest's side of the request and lets go of it: a completed rxjs subscriber still
   * holds its operators' closures, and through them Nest's whole per-request chain (subjects,
   * subscribers, the handler's context), which the session (alive as long as the stream) would
   * otherwise keep.
   */
  private completeRequest(): void {
    const result = this.result;
    this.result = undefined;
    result?.next(undefined);
    result?.complete();
  }

  /** An event out of the route's Observable: framed once per event object, then queued. */
  private deliver(value: unknown): void {
    const connection = this.connection;
    if (connection === undefined) {
      this.fail(new Error('a stream route must return a Herald stream (StreamsService.events)'));
      return;
    }
    if (!isHeraldEvent(value)) {
      this.logger.error(
        `stream ${connection.id}: the route emitted something that is not an event`,
      );
      connection.end('error');
      return;
    }
    connection.deliver(value);
  }

  private completed(): void {
    if (this.connection !== undefined) this.connection.end('complete');
    else if (this.source === undefined) {
      this.fail(new Error('a stream route must return a Herald stream (StreamsService.events)'));
    }
  }

  private shed(
    reason: 'draining' | 'rate-limited' | 'capacity',
    request: SubscriptionRequest,
    retryAfterMs?: number,
  ): void {
    const id = this.opening !== undefined ? this.opening.clientId : request.cursor;
    const refusal = this.pipeline.streams.shed(this.req, this.res, reason, id, retryAfterMs);
    // Not answered as a stream: the refusal goes to the exception filter like any other.
    if (refusal !== undefined) this.fail(refusal);
    else this.finish();
  }

  /** Refusals before the headers go to the exception filter; later errors end the stream. */
  private fail(err: unknown): void {
    const connection = this.connection;
    if (connection !== undefined) {
      this.logger.error(`stream ${connection.id} failed: ${String(err)}`);
      connection.end('error');
      return;
    }
    if (this.over) return;
    this.over = true;
    this.stop();
    const result = this.result;
    this.result = undefined;
    result?.error(err);
  }

  /** The stream is over (or was answered without one): Nest's part of the request completes. */
  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.stop();
    this.completeRequest();
  }

  private stop(): void {
    const handler = this.handler;
    this.handler = undefined;
    handler?.unsubscribe();
    this.attachment?.unsubscribe();
    this.attachment = undefined;
  }
}

function isHeraldEvent(value: unknown): value is HeraldEvent {
  const event = value as Partial<HeraldEvent> | null;
  return (
    typeof event === 'object' &&
    event !== null &&
    typeof event.id === 'string' &&
    typeof event.type === 'string' &&
    typeof event.data === 'string'
  );
}

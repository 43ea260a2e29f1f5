import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Subscription } from 'rxjs';
import type { BrokerEvent } from '@herald/broker';
import { frameOf } from './frame.cache';
import { frameEvent, frameRetry } from './sse.frame';
import { NoopStreamsObserver, type StreamsObserver } from './streams.observer';
import type { Flushable, WriteScheduler } from './write.scheduler';

/** Why a stream ended. */
export type CloseReason =
  'client' | 'slow-consumer' | 'drain' | 'token-expired' | 'admin' | 'revoked' | 'broker' | 'error';

/** Who holds a connection, for the registry and the admin API. */
export interface ConnectionMeta {
  readonly sub?: string;
  readonly ip: string;
  readonly topics: readonly string[];
  /** The opening request's id (X-Request-Id), for log lines. */
  readonly requestId?: string;
}

/** A registry entry (CONTRACT section 5). */
export interface ConnectionInfo {
  readonly id: string;
  readonly sub: string | null;
  readonly ip: string;
  readonly topics: readonly string[];
  readonly connectedAt: string;
  readonly lastEventId: string;
  readonly bytesSent: number;
  readonly instance: string;
}

/** How long after `exp` bytes queued before it may still be flushed. */
const EXPIRY_FLUSH_SLACK_MS = 500;

/** Response headers of every stream (CONTRACT section 1). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
};

/**
 * One open SSE stream. Output is queued and flushed once per tick by the {@link WriteScheduler};
 * unsent bytes (queued plus what the socket has not taken) are bounded by `maxBufferedBytes`.
 */
export class SseConnection implements Flushable {
  readonly id = randomUUID();
  readonly connectedAt = Date.now();
  /** Resume position: the last event id written, or where the stream started. */
  cursor: string;
  bytesSent = 0;
  lastWriteAt = Date.now();
  closeReason: CloseReason | undefined;
  /** Credentials expiry (epoch ms): past it, the stream ends instead of writing anything. */
  expiresAt: number | undefined;
  private queue: Buffer[] = [];
  private queued = 0;
  private subscription: Subscription | undefined;
  private readonly closeHooks: ((reason: CloseReason) => void)[] = [];
  /** Broker events queued since the last flush, and the first of them (for the observer). */
  private queuedEvents = 0;
  private firstQueued: BrokerEvent | undefined;

  constructor(
    private readonly res: ServerResponse,
    readonly meta: ConnectionMeta,
    cursor: string,
    private readonly scheduler: WriteScheduler,
    private readonly maxBufferedBytes: number,
    private readonly observer: StreamsObserver = NOOP_OBSERVER,
  ) {
    this.cursor = cursor;
    res.once('close', () => this.finish('client'));
  }

  /** True once the stream has ended for any reason. */
  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Sends the status line, headers and the first `retry:` at once. */
  open(retryMs: number): void {
    const socket = this.res.socket;
    socket?.setNoDelay(true);
    socket?.setTimeout(0);
    this.res.writeHead(200, SSE_HEADERS);
    this.write(frameRetry(retryMs));
  }

  /** Registers a hook run once when the stream ends. */
  onClose(hook: (reason: CloseReason) => void): void {
    if (this.closed) hook(this.closeReason ?? 'client');
    else this.closeHooks.push(hook);
  }

  /** Ties a broker subscription to the connection's lifetime. */
  attach(subscription: Subscription): void {
    if (this.closed) subscription.unsubscribe();
    else this.subscription = subscription;
  }

  /** Queues a broker event (its shared frame) and advances the cursor. */
  deliver(event: BrokerEvent): void {
    if (this.closed) return;
    this.cursor = event.id;
    this.send(frameOf(event));
    if (this.closed) return;
    if (this.queuedEvents++ === 0) this.firstQueued = event;
  }

  /** Queues a gateway event (`herald.*`) carrying the current cursor as its id. */
  sendControl(type: string, data: unknown, retryMs?: number): void {
    this.send(frameEvent(this.cursor, type, JSON.stringify(data), retryMs));
  }

  /** Queues raw bytes; closes the connection as a slow consumer when the buffer would overflow. */
  send(chunk: Buffer): void {
    if (this.closed) return;
    if (this.expiresAt !== undefined && Date.now() >= this.expiresAt) {
      this.end('token-expired');
      return;
    }
    const unsent = this.res.writableLength + this.queued + chunk.length;
    if (unsent > this.maxBufferedBytes) {
      this.abort('slow-consumer');
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    this.scheduler.schedule(this);
  }

  /** Writes everything queued in one socket write. */
  flush(): void {
    if (this.closed || this.queued === 0) return;
    if (this.expiresAt !== undefined && Date.now() >= this.expiresAt + EXPIRY_FLUSH_SLACK_MS) {
      // Queued before exp but not flushed in time (a stalled loop): drop rather than write late.
      this.queue = [];
      this.queued = 0;
      this.end('token-expired');
      return;
    }
    const out = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queued);
    this.queue = [];
    this.queued = 0;
    this.write(out);
    if (this.firstQueued !== undefined) {
      this.observer.flushed(this, this.queuedEvents, this.firstQueued, this.lastWriteAt);
      this.queuedEvents = 0;
      this.firstQueued = undefined;
    }
  }

  /** Flushes, writes an optional final frame, and ends the response cleanly. */
  end(reason: CloseReason, final?: Buffer): void {
    if (this.closed) return;
    this.flush();
    if (final) this.write(final);
    this.finish(reason);
    this.res.end();
  }

  /** Drops the connection at once (no further bytes). */
  abort(reason: CloseReason): void {
    if (this.closed) return;
    this.finish(reason);
    this.res.destroy();
  }

  /** A snapshot for the registry. */
  info(instance: string): ConnectionInfo {
    return {
      id: this.id,
      sub: this.meta.sub ?? null,
      ip: this.meta.ip,
      topics: this.meta.topics,
      connectedAt: new Date(this.connectedAt).toISOString(),
      lastEventId: this.cursor,
      bytesSent: this.bytesSent,
      instance,
    };
  }

  private write(chunk: Buffer): void {
    this.bytesSent += chunk.length;
    this.lastWriteAt = Date.now();
    this.res.write(chunk);
  }

  private finish(reason: CloseReason): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.queue = [];
    this.queued = 0;
    this.queuedEvents = 0;
    this.firstQueued = undefined;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    for (const hook of this.closeHooks.splice(0)) hook(reason);
    this.observer.closed(this, reason);
  }
}

const NOOP_OBSERVER = new NoopStreamsObserver();

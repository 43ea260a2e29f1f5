import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';
import type { BrokerAttachment, BrokerEvent } from '@herald/broker';
import { frameOf } from './frame.cache';
import { frameEvent, frameRetry } from './sse.frame';
import { NoopStreamsObserver, type StreamsObserver } from './streams.observer';
import type { Flushable, WriteScheduler } from './write.scheduler';

/** Why a stream ended (`complete`: the route's Observable completed). */
export type CloseReason =
  | 'client'
  | 'slow-consumer'
  | 'drain'
  | 'token-expired'
  | 'admin'
  | 'revoked'
  | 'broker'
  | 'complete'
  | 'error';

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

const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * One open SSE stream. Output is queued and flushed once per tick by the {@link WriteScheduler}
 * as one socket write (HTTP chunk framing done here, so the response machinery is bypassed after
 * the headers); with `compress`, each flush goes through a per-connection gzip stream and a sync
 * flush. A socket (and gzip) backlog past `maxBufferedBytes` cuts the stream as a slow consumer.
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
  /** Bytes the socket (and gzip) had not taken at the last flush: an upper bound until the next. */
  private backlog = 0;
  private socket: Socket | null = null;
  private chunked = false;
  private gzip: Gzip | undefined;
  private subscription: BrokerAttachment | undefined;
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
    private readonly compress = false,
  ) {
    this.cursor = cursor;
    res.once('close', () => this.finish('client'));
  }

  /** Output not yet taken by the socket: queued plus Node's write buffer. */
  get unsentBytes(): number {
    return this.unsentInStreams() + this.queued;
  }

  /** True once the stream has ended for any reason. */
  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /**
   * Sends the status line, headers and the first `retry:` at once. `vary` adds
   * `Vary: Accept-Encoding` (set when compression is configured, whatever this client accepts).
   */
  open(retryMs: number, vary = false): void {
    const socket = this.res.socket;
    // Events are whole, coalesced writes: send each at once rather than wait for an ACK.
    socket?.setNoDelay(true);
    socket?.setTimeout(0);
    const headers: Record<string, string> = { ...SSE_HEADERS };
    if (vary || this.compress) headers.Vary = 'Accept-Encoding';
    if (this.compress) headers['Content-Encoding'] = 'gzip';
    this.res.writeHead(200, headers);
    this.res.flushHeaders();
    this.socket = socket;
    this.chunked = this.res.chunkedEncoding;
    if (this.compress) this.startGzip();
    this.write(frameRetry(retryMs), Date.now());
  }

  /** Registers a hook run once when the stream ends. */
  onClose(hook: (reason: CloseReason) => void): void {
    if (this.closed) hook(this.closeReason ?? 'client');
    else this.closeHooks.push(hook);
  }

  /** Ties a broker subscription to the connection's lifetime. */
  attach(subscription: BrokerAttachment): void {
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

  /**
   * Queues raw bytes. The connection is closed as a slow consumer when the socket has not taken
   * more than `maxBufferedBytes` of what was flushed before: a client that stops reading is cut
   * at its next event or heartbeat, while one burst larger than the cap (a big batch) still
   * reaches clients that keep reading. Queued frames are the shared per-event buffers, so a
   * burst costs references, not copies, per connection.
   */
  send(chunk: Buffer): void {
    if (this.closed) return;
    if (this.expiresAt !== undefined && Date.now() >= this.expiresAt) {
      this.end('token-expired');
      return;
    }
    // Judge only what the socket (and gzip) have not taken from earlier flushes: one burst larger
    // than the cap (a big batch, a long replay) still reaches a client that reads. The cached
    // backlog only shrinks between flushes, so re-read it before cutting.
    if (this.backlog > this.maxBufferedBytes) {
      this.backlog = this.unsentInStreams();
      if (this.backlog > this.maxBufferedBytes) {
        this.abort('slow-consumer');
        return;
      }
    }
    if (this.queued === 0) this.scheduler.schedule(this);
    this.queue.push(chunk);
    this.queued += chunk.length;
  }

  /**
   * Writes everything queued in one socket write, then reports the broker events it carried to
   * the observer (`writtenAt` is the time of that write: one clock read per flush run).
   */
  flush(): void {
    if (this.closed || this.queued === 0) return;
    const now = this.scheduler.now;
    if (this.expiresAt !== undefined && now >= this.expiresAt + EXPIRY_FLUSH_SLACK_MS) {
      // Queued before exp but not flushed in time (a stalled loop): drop rather than write late.
      this.queue = [];
      this.queued = 0;
      this.end('token-expired');
      return;
    }
    const out = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queued);
    this.queue = [];
    this.queued = 0;
    this.write(out, now);
    this.backlog = this.unsentInStreams();
    if (this.firstQueued !== undefined) {
      const first = this.firstQueued;
      const events = this.queuedEvents;
      this.queuedEvents = 0;
      this.firstQueued = undefined;
      this.observer.flushed(this, events, first, now);
    }
  }

  /** Flushes, writes an optional final frame, and ends the response cleanly. */
  end(reason: CloseReason, final?: Buffer): void {
    if (this.closed) return;
    this.flush();
    // The flush may itself have ended the stream (credentials expired while it was queued).
    if (this.closed) return;
    const now = Date.now();
    // Nothing is written after the token's `exp`, not even a final gateway event.
    if (final && (this.expiresAt === undefined || now < this.expiresAt)) this.write(final, now);
    this.finish(reason);
    const gzip = this.gzip;
    if (gzip === undefined) {
      this.res.end();
      return;
    }
    // The last compressed bytes come out asynchronously: end the response after them.
    gzip.once('end', () => this.res.end());
    gzip.end();
  }

  /** Drops the connection at once (no further bytes). */
  abort(reason: CloseReason): void {
    if (this.closed) return;
    this.finish(reason);
    this.gzip?.destroy();
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

  private write(chunk: Buffer, now: number): void {
    this.bytesSent += chunk.length;
    this.lastWriteAt = now;
    const gzip = this.gzip;
    if (gzip === undefined) {
      this.writeBody(chunk);
      return;
    }
    gzip.write(chunk);
  }

  /** One socket write per call: the body bytes, in an HTTP chunk when the response is chunked. */
  private writeBody(chunk: Buffer): void {
    const socket = this.socket;
    if (socket === null || socket.destroyed) return;
    if (!this.chunked) {
      socket.write(chunk);
      return;
    }
    const size = chunk.length.toString(16);
    const out = Buffer.allocUnsafe(size.length + 4 + chunk.length);
    out.write(size, 0, 'latin1');
    CRLF.copy(out, size.length);
    chunk.copy(out, size.length + 2);
    CRLF.copy(out, out.length - 2);
    socket.write(out);
  }

  private startGzip(): void {
    // Every write is sync-flushed (one zlib call per coalesced batch). An 8 KiB window and
    // memLevel 7 keep the deflate state near 100 KB per connection instead of ~256 KB; SSE
    // events repeat within a few KiB, so the ratio barely moves.
    const gzip = createGzip({
      flush: zlibConstants.Z_SYNC_FLUSH,
      windowBits: 13,
      memLevel: 7,
    });
    gzip.on('data', (compressed: Buffer) => this.writeBody(compressed));
    gzip.on('error', () => {
      this.abort('error');
      // Also when the error comes while end() waits for gzip (already closed): free the socket.
      this.res.destroy();
    });
    this.gzip = gzip;
  }

  private unsentInStreams(): number {
    return (this.socket?.writableLength ?? 0) + (this.gzip?.writableLength ?? 0);
  }

  private finish(reason: CloseReason): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.queue = [];
    this.queued = 0;
    this.queuedEvents = 0;
    this.firstQueued = undefined;
    if (reason === 'client') this.gzip?.destroy();
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    // One failing hook must not skip the others (lease release, registry, gauges).
    for (const hook of this.closeHooks.splice(0)) {
      try {
        hook(reason);
      } catch (err) {
        process.emitWarning(`stream close hook failed: ${String(err)}`);
      }
    }
    try {
      this.observer.closed(this, reason);
    } catch (err) {
      process.emitWarning(`stream close observer failed: ${String(err)}`);
    }
  }
}

const NOOP_OBSERVER = new NoopStreamsObserver();

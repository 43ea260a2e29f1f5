import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { constants as http2Constants, type Http2Stream } from 'node:http2';
import type { Writable } from 'node:stream';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';
import type { BrokerAttachment, BrokerEvent } from '@herald/broker';
import { chunkOf, frameOf, joinedOf, MAX_JOINED_BYTES } from './frame.cache';
import { frameEvent, frameRetry } from './sse.frame';
import type { StreamsObserver } from './streams.observer';
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
 * Queued bytes past which `send` flushes at once instead of waiting for the scheduler (or half
 * the cap, `maxBufferedBytes`, when that is smaller).
 */
export const EAGER_FLUSH_BYTES = 64 * 1024;

/**
 * Share of `maxBufferedBytes` a replay may fill: the rest is headroom for live events arriving
 * while the client catches up, so a reader that keeps up is not cut at the replay/live seam.
 */
export const REPLAY_FILL_RATIO = 0.5;

/** Small frames are joined into gzip inputs of at most this size (one zlib call each). */
const GZIP_INPUT_RUN_BYTES = 16 * 1024;

/**
 * One open SSE stream. Output is queued and flushed once per tick by the {@link WriteScheduler}
 * (or at once past {@link EAGER_FLUSH_BYTES}) as one socket write of shared buffers: a frame
 * pre-framed once as an HTTP chunk ({@link chunkOf}), or the frames of a fan-out joined once per
 * run ({@link joinedOf}), so no event byte is copied and nothing is allocated per connection.
 * With `compress`, each flush goes through a per-connection gzip stream and one sync flush.
 * Queued plus unsent output (JS queue, gzip input, socket buffer) never exceeds
 * `maxBufferedBytes` plus one frame: a frame offered past the cap cuts the stream as a slow
 * consumer, and a replay is paced by {@link hasRoom} / the broker attachment's `resume`.
 */
export class SseConnection implements Flushable {
  /** One flat string: `randomUUID()` returns a tree of pieces, kept for the stream's life. */
  readonly id = Buffer.from(randomUUID(), 'latin1').toString('latin1');
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
  /** Where body bytes go: the TCP/TLS socket (HTTP/1.1) or the HTTP/2 stream. */
  private socket: Writable | null = null;
  /** HTTP/1.1 chunked body (a real boolean: Http2ServerResponse has no `chunkedEncoding`). */
  private chunked = false;
  private gzip: Gzip | undefined;
  private subscription: BrokerAttachment | undefined;
  /** A replay found no room ({@link hasRoom}) and waits for the socket to take output. */
  private waitingForRoom = false;
  /** Since when (epoch ms) the replay has been waiting for room. */
  private waitingSince = 0;
  /** Set by {@link endWhenWritten}: the final frame is out, nothing more is queued. */
  private ending = false;
  private readonly replayFill: number;
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
    private readonly observer: StreamsObserver,
    private readonly compress = false,
  ) {
    this.cursor = cursor;
    this.replayFill = Math.max(1, Math.floor(maxBufferedBytes * REPLAY_FILL_RATIO));
    // `finish` runs once whatever calls it: a plain listener spares `once`'s wrapper per stream.
    res.on('close', () => this.finish('client'));
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
   * Flow control for a replay (the broker sink's `hasRoom`): true while queued plus unsent output
   * is under {@link REPLAY_FILL_RATIO} of the cap. When false, the attachment's `resume` is
   * called once the socket has taken enough.
   */
  hasRoom(): boolean {
    if (this.closed) return false;
    if (this.unsentBytes < this.replayFill) return true;
    if (!this.waitingForRoom) this.waitingSince = Date.now();
    this.waitingForRoom = true;
    return false;
  }

  /** How long (ms) a paced replay has been waiting for the socket to take output; 0 if not. */
  stalledFor(now: number): number {
    return this.waitingForRoom && !this.closed ? now - this.waitingSince : 0;
  }

  /**
   * Sends the status line, headers and the first `retry:` at once. `vary` adds
   * `Vary: Accept-Encoding` (set when compression is configured, whatever this client accepts);
   * `extraHeaders` are a dialect's own (never overriding the SSE headers).
   */
  open(retryMs: number, vary = false, extraHeaders?: Readonly<Record<string, string>>): void {
    // HTTP/2: bytes go to the stream, whose buffer and 'drain' follow the peer's flow control.
    const h2 = http2StreamOf(this.res);
    const socket = h2 ?? this.res.socket;
    if (h2 === undefined) {
      // Events are whole, coalesced writes: send each at once rather than wait for an ACK.
      this.res.socket?.setNoDelay(true);
      this.res.socket?.setTimeout(0);
    }
    const headers: Record<string, string> = { ...extraHeaders, ...SSE_HEADERS };
    // Connection-specific headers are forbidden in HTTP/2 (RFC 9113 section 8.2.2).
    if (h2 !== undefined) delete headers.Connection;
    if (vary || this.compress) headers.Vary = 'Accept-Encoding';
    if (this.compress) headers['Content-Encoding'] = 'gzip';
    this.res.writeHead(200, headers);
    this.socket = socket;
    const retry = frameRetry(retryMs);
    if (this.compress) {
      this.res.flushHeaders();
      this.chunked = this.res.chunkedEncoding === true;
      this.startGzip();
      this.write([retry], retry.length, Date.now());
      return;
    }
    // The head and the first `retry:` leave in one socket write: the response's own first write
    // corks the socket until the next tick and prepends the head (one syscall per open, not two).
    this.chunked = this.res.chunkedEncoding === true;
    this.bytesSent += retry.length;
    this.lastWriteAt = Date.now();
    this.res.write(retry);
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
    if (this.closed || this.ending) return;
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
   * Queues raw bytes (a shared frame: queued by reference). When queued plus unsent output
   * already reaches `maxBufferedBytes`, the stream is closed as a slow consumer instead, so a
   * connection never holds more than the cap plus one frame: a client that stops reading is cut
   * at its next event or heartbeat, and so is one offered a live burst larger than the cap that
   * the socket could not take (it resumes from its cursor, and that replay is paced).
   */
  send(chunk: Buffer): void {
    if (this.closed || this.ending) return;
    if (this.expiresAt !== undefined && Date.now() >= this.expiresAt) {
      this.end('token-expired');
      return;
    }
    if (this.queued + this.unsentInStreams() >= this.maxBufferedBytes) {
      this.abort('slow-consumer');
      return;
    }
    if (this.queued === 0) this.scheduler.schedule(this);
    this.queue.push(chunk);
    this.queued += chunk.length;
    // A burst goes to the socket as it is queued, so the kernel takes what it can before the cap
    // is judged again (coalescing only matters for small writes). Under a small cap, half of it
    // is the mark: otherwise output queued while a run lingers (adaptive coalescing under load)
    // would reach the cap in the queue and cut a reader whose socket takes everything.
    if (this.queued >= EAGER_FLUSH_BYTES || this.queued >= this.replayFill) this.flush();
  }

  /**
   * Writes everything queued in one socket write, then reports the broker events it carried to
   * the observer (`writtenAt` is the time of that write: one clock read per flush run).
   * @returns the bytes written (0 when nothing was).
   */
  flush(): number {
    if (this.closed || this.queued === 0) return 0;
    const now = this.scheduler.now;
    if (this.expiresAt !== undefined && now >= this.expiresAt + EXPIRY_FLUSH_SLACK_MS) {
      // Queued before exp but not flushed in time (a stalled loop): drop rather than write late.
      this.queue = [];
      this.queued = 0;
      this.end('token-expired');
      return 0;
    }
    const out = this.queue;
    const bytes = this.queued;
    this.queue = [];
    this.queued = 0;
    this.write(out, bytes, now);
    if (this.firstQueued !== undefined) {
      const first = this.firstQueued;
      const events = this.queuedEvents;
      this.queuedEvents = 0;
      this.firstQueued = undefined;
      this.observer.flushed(this, events, first, now);
    }
    // The socket may have taken everything at once: a paused replay continues now.
    if (this.waitingForRoom) this.onWritten();
    return bytes;
  }

  /**
   * Ends the stream like {@link end}, but records the close only once the final frame (and all
   * output before it) has been handed to the kernel. A stream that has not taken it by
   * `deadline` (epoch ms) is cut as a slow consumer instead. Nothing is queued after `final`.
   * @returns the reason the stream was closed with.
   */
  endWhenWritten(reason: CloseReason, final: Buffer, deadline: number): Promise<CloseReason> {
    if (this.closed) return Promise.resolve(this.closeReason ?? reason);
    this.flush();
    if (this.closed) return Promise.resolve(this.closeReason ?? reason);
    // No more input: the final frame is the last thing this stream gets.
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.ending = true;
    const now = Date.now();
    if (this.expiresAt === undefined || now < this.expiresAt) {
      this.write([final], final.length, now);
    }
    return new Promise<CloseReason>((resolve) => {
      let settled = false;
      const settle = (how: CloseReason) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (how === 'slow-consumer') this.abort(how);
        else this.finish(how);
        resolve(this.closeReason ?? how);
      };
      const timer = setTimeout(() => settle('slow-consumer'), Math.max(0, deadline - now));
      timer.unref();
      // Synchronously in the listener: the response's own 'close' follows on the next tick.
      this.res.once('finish', () => settle(reason));
      this.res.once('close', () => settle(this.closeReason ?? 'client'));
      this.endResponse();
    });
  }

  /** Flushes, writes an optional final frame, and ends the response cleanly. */
  end(reason: CloseReason, final?: Buffer): void {
    if (this.closed || this.ending) return;
    this.flush();
    // The flush may itself have ended the stream (credentials expired while it was queued).
    if (this.closed) return;
    const now = Date.now();
    // Nothing is written after the token's `exp`, not even a final gateway event.
    if (final && (this.expiresAt === undefined || now < this.expiresAt)) {
      this.write([final], final.length, now);
    }
    this.finish(reason);
    this.endResponse();
  }

  private endResponse(): void {
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
    destroyResponse(this.res);
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

  private write(chunks: readonly Buffer[], bytes: number, now: number): void {
    this.bytesSent += bytes;
    this.lastWriteAt = now;
    const gzip = this.gzip;
    if (gzip === undefined) {
      this.writeBody(chunks, bytes);
      return;
    }
    // The shared frames are gzip's input, one sync flush per batch. Runs of small frames are
    // joined into inputs of at most GZIP_INPUT_RUN_BYTES (each gzip write is one zlib call on the
    // thread pool); that transient copy is bounded and consumed at once, and large frames go in
    // as they are.
    let run: Buffer[] = [];
    let runBytes = 0;
    const flushRun = () => {
      if (run.length === 1) gzip.write(run[0]);
      else if (run.length > 1) gzip.write(Buffer.concat(run, runBytes));
      run = [];
      runBytes = 0;
    };
    for (const chunk of chunks) {
      if (chunk.length >= GZIP_INPUT_RUN_BYTES) {
        flushRun();
        gzip.write(chunk);
        continue;
      }
      if (runBytes + chunk.length > GZIP_INPUT_RUN_BYTES) flushRun();
      run.push(chunk);
      runBytes += chunk.length;
    }
    flushRun();
    gzip.flush(zlibConstants.Z_SYNC_FLUSH);
  }

  /**
   * One socket write per call, ending with a callback that resumes a paused replay. On a chunked
   * response a single frame goes out as its HTTP chunk, pre-framed once per frame and shared
   * between connections ({@link chunkOf}); several frames (up to {@link MAX_JOINED_BYTES}) as
   * one Buffer joined once per run for every connection that queued the same frames
   * ({@link joinedOf}): either way a single `socket.write`, with no cork and no per-connection
   * allocation. Larger flushes are one corked `writev` of the frames' chunks.
   */
  private writeBody(chunks: readonly Buffer[], bytes: number): void {
    const socket = this.socket;
    if (socket === null || socket.destroyed || bytes === 0) return;
    const chunked = this.chunked;
    const last = chunks.length - 1;
    if (last === 0) {
      socket.write(chunked ? chunkOf(chunks[0]) : chunks[0], this.onWritten);
      return;
    }
    if (bytes <= MAX_JOINED_BYTES) {
      socket.write(joinedOf(chunks, bytes, chunked), this.onWritten);
      return;
    }
    socket.cork();
    for (let i = 0; i < last; i++) socket.write(chunked ? chunkOf(chunks[i]) : chunks[i]);
    socket.write(chunked ? chunkOf(chunks[last]) : chunks[last], this.onWritten);
    socket.uncork();
  }

  /**
   * Compressed output (unique to this connection, so not cached): one corked write framed as one
   * HTTP chunk when the response is chunked.
   */
  private writeCompressed(data: Buffer): void {
    const socket = this.socket;
    if (socket === null || socket.destroyed || data.length === 0) return;
    if (!this.chunked) {
      socket.write(data, this.onWritten);
      return;
    }
    socket.cork();
    socket.write(Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'));
    socket.write(data);
    socket.write(CRLF, this.onWritten);
    socket.uncork();
  }

  /** A write reached the kernel: continue a paused replay if there is room again. */
  private readonly onWritten = (): void => {
    if (!this.waitingForRoom || this.closed || this.unsentBytes >= this.replayFill) return;
    this.waitingForRoom = false;
    this.subscription?.resume?.();
  };

  private startGzip(): void {
    // One sync flush per coalesced batch (see write). An 8 KiB window and memLevel 7 keep the
    // deflate state near 100 KB per connection instead of ~256 KB; SSE events repeat within a
    // few KiB, so the ratio barely moves.
    const gzip = createGzip({ windowBits: 13, memLevel: 7 });
    gzip.on('data', (compressed: Buffer) => this.writeCompressed(compressed));
    // Input gzip has taken frees room too.
    gzip.on('drain', this.onWritten);
    gzip.on('error', () => {
      this.abort('error');
      // Also when the error comes while end() waits for gzip (already closed): free the socket.
      destroyResponse(this.res);
    });
    this.gzip = gzip;
  }

  private unsentInStreams(): number {
    return (this.socket?.writableLength ?? 0) + (this.gzip?.writableLength ?? 0);
  }

  private finish(reason: CloseReason): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.waitingForRoom = false;
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

/** The HTTP/2 stream under Node's compatibility response (`res.stream`), if `res` is one. */
function http2StreamOf(res: ServerResponse): Http2Stream | undefined {
  return (res as ServerResponse & { stream?: Http2Stream }).stream;
}

/**
 * Cuts the response: HTTP/1.1 closes the socket; HTTP/2 resets only this stream with CANCEL (a
 * reset without an error code would read as a clean end that a paused reader never reaches).
 */
function destroyResponse(res: ServerResponse): void {
  const h2 = http2StreamOf(res);
  if (h2 === undefined) res.destroy();
  else if (!h2.destroyed) h2.close(http2Constants.NGHTTP2_CANCEL);
}

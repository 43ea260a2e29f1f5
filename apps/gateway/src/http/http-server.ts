import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';
import { expressOverHttp2, Http2Sessions } from './http2.bridge';

/** Node HTTP server limits (slowloris, header size). Internal: not environment variables. */
export interface HttpServerLimits {
  /** Time a client has to send the complete request headers (default 10 s). */
  readonly headersTimeoutMs: number;
  /** Time a client has to send the complete request, body included (default 30 s). */
  readonly requestTimeoutMs: number;
  /** Idle time of a kept-alive connection between requests (default 5 s). */
  readonly keepAliveTimeoutMs: number;
  /** How often expired header/request timers are checked (default 1 s; Node's is 30 s). */
  readonly connectionsCheckingIntervalMs: number;
  /** Request line plus headers, in bytes; larger answers 431 (default 16 KiB). */
  readonly maxHeaderSize: number;
  /** Headers per request (default 100). */
  readonly maxHeadersCount: number;
  /** HTTP/2: streams a client may have open at once on one connection (default 128). */
  readonly http2MaxConcurrentStreams: number;
  /** HTTP/2: a connection with no open stream for this long is closed (default 30 s). */
  readonly http2IdleTimeoutMs: number;
  /**
   * HTTP/2: memory (MB) Node lets one connection use before it refuses new streams with
   * ENHANCE_YOUR_CALM (default 64). Node's own default of 10 refused streams of a connection
   * holding 128 SSE streams in tests; each stream is already bounded by MAX_BUFFERED_BYTES.
   */
  readonly http2MaxSessionMemoryMb: number;
}

/** Production defaults of {@link HttpServerLimits}. */
export const DEFAULT_HTTP_SERVER_LIMITS: HttpServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  connectionsCheckingIntervalMs: 1_000,
  maxHeaderSize: 16 * 1024,
  maxHeadersCount: 100,
  http2MaxConcurrentStreams: 128,
  http2IdleTimeoutMs: 30_000,
  http2MaxSessionMemoryMb: 64,
};

/** Node's request and response classes for a server (`IncomingMessage` / `ServerResponse`). */
interface HttpClasses {
  readonly IncomingMessage: typeof http.IncomingMessage;
  readonly ServerResponse: typeof http.ServerResponse;
}

/**
 * Request and response classes whose objects are born on Express's prototypes. Express puts
 * every request and response on `app.request` / `app.response` with `Object.setPrototypeOf`,
 * which gives each object its own hidden class: every request then carried its own maps and
 * descriptor arrays (about 2 KB, kept for a stream's life) and every property access on it
 * missed V8's inline caches. Here `app.request` / `app.response` become the prototypes of
 * subclasses of Node's classes, in the same chain (Express's methods, then Node's), so Express's
 * swap is a no-op and all requests share one hidden class with in-object fields (a plain
 * function constructor would leave the response in dictionary mode).
 */
function bornOnExpress(app: Express): HttpClasses {
  class HeraldIncomingMessage extends http.IncomingMessage {}
  class HeraldServerResponse extends http.ServerResponse {}
  adopt(HeraldIncomingMessage.prototype, app.request);
  adopt(HeraldServerResponse.prototype, app.response);
  const prototypes = app as unknown as { request: object; response: object };
  prototypes.request = HeraldIncomingMessage.prototype;
  prototypes.response = HeraldServerResponse.prototype;
  return {
    IncomingMessage: HeraldIncomingMessage,
    ServerResponse: HeraldServerResponse as typeof http.ServerResponse,
  };
}

/** Makes `target` stand in for Express's `prototype`: its parent and its own properties. */
function adopt(target: object, prototype: object): void {
  Object.setPrototypeOf(target, Object.getPrototypeOf(prototype) as object);
  Object.defineProperties(target, Object.getOwnPropertyDescriptors(prototype));
}

/** How long sessions get after the final GOAWAY before they are destroyed. */
const HTTP2_CLOSE_GRACE_MS = 2_000;

/**
 * The Express adapter with Herald's HTTP server limits. Node enforces `headersTimeout` and
 * `requestTimeout` only when its connection check runs (every 30 s by default), which is set at
 * server creation: so the server is created here rather than by the stock adapter. Streams are
 * not cut by these timeouts: a `GET /events` request is complete once its headers are in.
 *
 * With TLS, the server is `http2.createSecureServer({ allowHTTP1: true })`: ALPN picks `h2` or
 * `http/1.1` per connection, and both reach the same Express app ({@link expressOverHttp2}).
 */
export class HeraldExpressAdapter extends ExpressAdapter {
  private http2Sessions: Http2Sessions | undefined;

  constructor(private readonly limits: HttpServerLimits) {
    super();
  }

  /** The HTTP/2 sessions (undefined without TLS). */
  get sessions(): Http2Sessions | undefined {
    return this.http2Sessions;
  }

  override initHttpServer(options: NestApplicationOptions): void {
    const limits = this.limits;
    const serverOptions: http.ServerOptions = {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
      maxHeaderSize: limits.maxHeaderSize,
    };
    const app = this.getInstance<Express>();
    // HTTP/1.1 requests and responses are born on Express's prototypes (see `bornOnExpress`).
    const { IncomingMessage, ServerResponse } = bornOnExpress(app);
    if (options.httpsOptions) {
      const server = http2.createSecureServer(
        {
          ...options.httpsOptions,
          allowHTTP1: true,
          Http1IncomingMessage: IncomingMessage,
          Http1ServerResponse: ServerResponse,
          // A client past the stream cap gets REFUSED_STREAM for the extra streams; the header
          // block limit is HTTP/1.1's.
          maxSessionMemory: limits.http2MaxSessionMemoryMb,
          settings: {
            maxConcurrentStreams: limits.http2MaxConcurrentStreams,
            maxHeaderListSize: limits.maxHeaderSize,
          },
        },
        expressOverHttp2(app),
      );
      // The HTTP/1.1 side of allowHTTP1 reads these from the server (not from the options).
      Object.assign(server, {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
        maxHeaderSize: limits.maxHeaderSize,
        maxHeadersCount: limits.maxHeadersCount,
      });
      this.http2Sessions = new Http2Sessions(server, limits.http2IdleTimeoutMs);
      // A net.Server like the HTTP/1.1 ones (listen, address, close, maxConnections).
      this.httpServer = server as unknown as http.Server;
      return;
    }
    const server = http.createServer({ ...serverOptions, IncomingMessage, ServerResponse }, app);
    server.maxHeadersCount = limits.maxHeadersCount;
    this.httpServer = server;
  }

  /** Sends GOAWAY on every HTTP/2 session (shutdown begins): open streams drain on. */
  goAway(): void {
    this.http2Sessions?.goAway();
  }

  override close(): Promise<unknown> {
    // The server stops accepting; HTTP/2 sessions get GOAWAY and a short grace to end.
    const closed = super.close();
    this.http2Sessions?.goAway(HTTP2_CLOSE_GRACE_MS);
    return closed ?? Promise.resolve();
  }
}

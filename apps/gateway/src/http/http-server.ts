import * as http from 'node:http';
import * as https from 'node:https';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';

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
}

/** Production defaults of {@link HttpServerLimits}. */
export const DEFAULT_HTTP_SERVER_LIMITS: HttpServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  connectionsCheckingIntervalMs: 1_000,
  maxHeaderSize: 16 * 1024,
  maxHeadersCount: 100,
};

/**
 * The Express adapter with Herald's HTTP server limits. Node enforces `headersTimeout` and
 * `requestTimeout` only when its connection check runs (every 30 s by default), which is set at
 * server creation: so the server is created here rather than by the stock adapter. Streams are
 * not cut by these timeouts: a `GET /events` request is complete once its headers are in.
 */
export class HeraldExpressAdapter extends ExpressAdapter {
  constructor(private readonly limits: HttpServerLimits) {
    super();
  }

  override initHttpServer(options: NestApplicationOptions): void {
    const serverOptions: http.ServerOptions = {
      headersTimeout: this.limits.headersTimeoutMs,
      requestTimeout: this.limits.requestTimeoutMs,
      keepAliveTimeout: this.limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: this.limits.connectionsCheckingIntervalMs,
      maxHeaderSize: this.limits.maxHeaderSize,
    };
    const app = this.getInstance<http.RequestListener>();
    const server = options.httpsOptions
      ? https.createServer({ ...serverOptions, ...options.httpsOptions }, app)
      : http.createServer(serverOptions, app);
    server.maxHeadersCount = this.limits.maxHeadersCount;
    this.httpServer = server;
  }
}

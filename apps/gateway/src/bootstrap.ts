import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, type DynamicModule, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DestinationStream } from 'pino';
import { HeraldConfig, type Environment } from '@herald/config';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import { AppModule } from './app.module';
import { ProxyTrust } from './http/client-ip';
import {
  DEFAULT_HTTP_SERVER_LIMITS,
  HeraldExpressAdapter,
  type HttpServerLimits,
} from './http/http-server';
import { requestLogMiddleware } from './http/request-log.middleware';
import { transportSecurityMiddleware } from './http/transport-security.middleware';
import { ShutdownService } from './lifecycle/shutdown.service';

/** A running gateway. */
export interface Gateway {
  readonly app: NestExpressApplication;
  readonly config: HeraldConfig;
  /** The process logger (its `scrubber` reports the scrubbing work, which tests bound). */
  readonly logger: HeraldLogger;
  /** Base URL on the bound address, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Drains streams (herald.drain, spread over SHUTDOWN_GRACE_MS), then closes the app. */
  shutdown(signal?: string): Promise<void>;
}

/** Accept queue length requested from the kernel (Node's default is 511). */
export const LISTEN_BACKLOG = 4096;
/** Sockets allowed beyond MAX_CONNECTIONS before the server refuses outright. */
export const LISTEN_HEADROOM = 1024;

/** Hooks for embedding and tests. */
export interface GatewayOptions {
  /** Where log lines go (default stdout). */
  readonly logDestination?: DestinationStream;
  /** Overrides of the HTTP server limits (tests shorten the slowloris timeouts). */
  readonly http?: Partial<HttpServerLimits>;
  /**
   * Builds the Nest app on `adapter` (default `NestFactory.create`); tests use it to override
   * providers. Pass `adapter` on so the HTTP server limits apply.
   */
  /** The root module (default the gateway's `AppModule`); a team's app passes its own. */
  readonly module?: (config: HeraldConfig) => DynamicModule;
  readonly create?: (
    module: DynamicModule,
    options: NestApplicationOptions,
    adapter: HeraldExpressAdapter,
  ) => Promise<NestExpressApplication>;
}

/**
 * Builds and starts the gateway. `env` defaults to the process environment.
 * @throws ConfigValidationError naming every bad variable.
 */
export async function startGateway(
  env?: Environment,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const config = env === undefined ? HeraldConfig.fromProcessEnv() : HeraldConfig.from(env);
  const logger = new HeraldLogger({
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
    // The token cookie is a secret under any name (AUTH_COOKIE_NAME); `access_token` always is,
    // and so are the Mercure token cookies (the 0.x `authorization` query is in REDACT_KEYS).
    redactKeys: [
      ...config.REDACT_KEYS,
      config.AUTH_COOKIE_NAME,
      'mercureAuthorization',
      '__Secure-mercure_access_token',
    ],
    base: { instance: config.INSTANCE_ID },
    destination: options.logDestination,
  });
  const tls = config.TLS_CERT_FILE !== undefined && config.TLS_KEY_FILE !== undefined;
  const appOptions: NestApplicationOptions = {
    bodyParser: false,
    logger,
    abortOnError: false,
    httpsOptions: tls
      ? { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) }
      : undefined,
  };
  // Slow header senders are cut; open streams have no request timeout (the request is complete).
  const adapter = new HeraldExpressAdapter({ ...DEFAULT_HTTP_SERVER_LIMITS, ...options.http });
  const module = (options.module ?? ((c: HeraldConfig) => AppModule.forRoot(c)))(config);
  const app = options.create
    ? await options.create(module, appOptions, adapter)
    : await NestFactory.create<NestExpressApplication>(module, adapter, appOptions);
  app.useLogger(logger);
  app.disable('x-powered-by');
  // First: client address, request id, access log and HTTP metrics; then HTTPS policy.
  app.use(
    requestLogMiddleware({
      logger: logger.child({ context: 'Http' }),
      scrubber: logger.scrubber,
      metrics: app.get(HeraldMetrics),
      trust: new ProxyTrust(config.TRUST_PROXY),
    }),
  );
  app.use(
    transportSecurityMiddleware({
      requireHttps: config.REQUIRE_HTTPS,
      hstsMaxAgeS: config.HSTS_MAX_AGE_S,
    }),
  );
  const server: Server = app.getHttpServer();
  // Many-connection settings (docs/performance.md): a last-resort socket cap above
  // MAX_CONNECTIONS (room for shed answers, probes and publishers), and an accept backlog deep
  // enough for a reconnect storm (the kernel caps it at net.core.somaxconn).
  server.maxConnections = config.MAX_CONNECTIONS + LISTEN_HEADROOM;
  // Nest forwards extra arguments to `server.listen(port, host, backlog, cb)`; its typings omit them.
  const listen = app.listen.bind(app) as unknown as (
    port: number,
    host: string,
    backlog: number,
  ) => Promise<unknown>;
  await listen(config.PORT, config.HOST, LISTEN_BACKLOG);
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    app,
    config,
    logger,
    url,
    shutdown(signal = 'shutdown') {
      closing ??= (async () => {
        // HTTP/2 clients open their next streams on a new connection (another instance).
        adapter.goAway();
        await app.get(ShutdownService).drain(signal);
        await app.close();
      })();
      return closing;
    },
  };
}

/** Logs the listening address. */
export function announce(gateway: Gateway): void {
  new Logger('Herald').log(
    `listening on ${gateway.url} (broker=${gateway.config.BROKER}, instance=${gateway.config.INSTANCE_ID})`,
  );
}

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { HeraldConfig, type Environment } from '@herald/config';
import { AppModule } from './app.module';
import { ShutdownService } from './lifecycle/shutdown.service';

/** A running gateway. */
export interface Gateway {
  readonly app: NestExpressApplication;
  readonly config: HeraldConfig;
  /** Base URL on the bound address, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Drains streams (herald.drain, spread over SHUTDOWN_GRACE_MS), then closes the app. */
  shutdown(signal?: string): Promise<void>;
}

/** Accept queue length requested from the kernel (Node's default is 511). */
export const LISTEN_BACKLOG = 4096;
/** Sockets allowed beyond MAX_CONNECTIONS before the server refuses outright. */
export const LISTEN_HEADROOM = 1024;

const LEVELS: Record<HeraldConfig['LOG_LEVEL'], LogLevel[] | false> = {
  silent: false,
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * Builds and starts the gateway. `env` defaults to the process environment.
 * @throws ConfigValidationError naming every bad variable.
 */
export async function startGateway(env?: Environment): Promise<Gateway> {
  const config = env === undefined ? HeraldConfig.fromProcessEnv() : HeraldConfig.from(env);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    logger: LEVELS[config.LOG_LEVEL],
    abortOnError: false,
  });
  app.disable('x-powered-by');
  const server: Server = app.getHttpServer();
  // Slow header senders are cut; open streams have no request timeout (the request is complete).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
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
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    app,
    config,
    url,
    shutdown(signal = 'shutdown') {
      closing ??= (async () => {
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

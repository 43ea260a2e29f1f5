import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { HeraldConfig, type Environment } from '@herald/config';
import { AppModule } from './app.module';
import {
  DEFAULT_HTTP_SERVER_LIMITS,
  HeraldExpressAdapter,
  type HttpServerLimits,
} from './http/http-server';
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
 * Builds and starts the gateway. `env` defaults to the process environment; `http` overrides
 * the HTTP server limits (tests shorten the slowloris timeouts).
 * @throws ConfigValidationError naming every bad variable.
 */
export async function startGateway(
  env?: Environment,
  http: Partial<HttpServerLimits> = {},
): Promise<Gateway> {
  const config = env === undefined ? HeraldConfig.fromProcessEnv() : HeraldConfig.from(env);
  // Slow header senders are cut; open streams have no request timeout (the request is complete).
  const adapter = new HeraldExpressAdapter({ ...DEFAULT_HTTP_SERVER_LIMITS, ...http });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), adapter, {
    bodyParser: false,
    logger: LEVELS[config.LOG_LEVEL],
    abortOnError: false,
  });
  app.disable('x-powered-by');
  const server: Server = app.getHttpServer();
  await app.listen(config.PORT, config.HOST);
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

import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigValidationError, HeraldConfig } from '@herald/config';
import { ProxyTrust, requestLogMiddleware } from '@herald/http';
import { ShutdownService } from '@herald/server';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import { OrdersFeedAppModule } from './orders-feed.module';

/** `npm run example:custom-sse`: the orders feed app on PORT, configured like the gateway. */
async function main(): Promise<void> {
  const config = HeraldConfig.fromProcessEnv();
  const logger = new HeraldLogger({
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
    redactKeys: [...config.REDACT_KEYS, config.AUTH_COOKIE_NAME],
    base: { instance: config.INSTANCE_ID },
  });
  const app = await NestFactory.create<NestExpressApplication>(
    OrdersFeedAppModule.forRoot(config),
    { bodyParser: false, logger, abortOnError: false },
  );
  // Client address (TRUST_PROXY), request id, access log and HTTP metrics, as in the gateway.
  app.use(
    requestLogMiddleware({
      logger: logger.child({ context: 'Http' }),
      scrubber: logger.scrubber,
      metrics: app.get(HeraldMetrics),
      trust: new ProxyTrust(config.TRUST_PROXY),
    }),
  );
  await app.listen(config.PORT, config.HOST);
  const { address, family, port } = app.getHttpServer().address() as AddressInfo;
  const host = ['0.0.0.0', '::'].includes(address)
    ? '127.0.0.1'
    : family === 'IPv6'
      ? `[${address}]`
      : address;
  const log = new Logger('OrdersFeed');
  log.log(`orders feed listening on http://${host}:${port} (instance=${config.INSTANCE_ID})`);
  let closing: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals) => {
    setTimeout(() => process.exit(0), config.SHUTDOWN_GRACE_MS + 4000).unref();
    closing ??= (async () => {
      // Drain streams (herald.drain, spread over SHUTDOWN_GRACE_MS), then close the app.
      await app.get(ShutdownService).drain(signal);
      await app.close();
    })();
    closing.then(
      () => process.exit(0),
      (err: unknown) => {
        log.error(`shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  new Logger('OrdersFeed').error(
    err instanceof ConfigValidationError ? err.message : ((err as Error).stack ?? String(err)),
  );
  process.exit(1);
});

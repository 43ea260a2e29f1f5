import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigValidationError } from '@herald/config';
import { startGateway } from '../../apps/gateway/src/bootstrap';
import { OrdersFeedAppModule } from './orders-feed.module';

/** `npm run example:custom-sse`: the orders feed app on PORT, configured like the gateway. */
async function main(): Promise<void> {
  const logger = new Logger('OrdersFeed');
  const app = await startGateway(undefined, { module: (c) => OrdersFeedAppModule.forRoot(c) });
  logger.log(`orders feed listening on ${app.url} (instance=${app.config.INSTANCE_ID})`);
  const stop = (signal: NodeJS.Signals) => {
    setTimeout(() => process.exit(0), app.config.SHUTDOWN_GRACE_MS + 4000).unref();
    app.shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`shutdown failed: ${String(err)}`);
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

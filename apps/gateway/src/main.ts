import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigValidationError } from '@herald/config';
import { announce, startGateway } from './bootstrap';

async function main(): Promise<void> {
  const logger = new Logger('Herald');
  const gateway = await startGateway();
  announce(gateway);
  const stop = (signal: NodeJS.Signals) => {
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    // Never hang: exit within SHUTDOWN_GRACE_MS + 5 s whatever happens.
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(0);
    }, gateway.config.SHUTDOWN_GRACE_MS + 4000).unref();
    gateway.shutdown(signal).then(
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
  const logger = new Logger('Herald');
  logger.error(
    err instanceof ConfigValidationError ? err.message : ((err as Error).stack ?? String(err)),
  );
  process.exit(1);
});

import { startGateway, type Gateway, type GatewayOptions } from '../../apps/gateway/src/bootstrap';
import { TEST_JWT_SECRET } from './tokens';

/**
 * Settings every test gateway starts with: loopback, port 0, quiet logs, and auth that stays out
 * of the way of non-auth tests: anyone may subscribe (ANONYMOUS_TOPICS=**) and `publish()` sends
 * `PUBLISHER_TOKEN` (signed with TEST_JWT_SECRET). Auth tests override these.
 */
export const TEST_ENV: Readonly<Record<string, string>> = {
  PORT: '0',
  HOST: '127.0.0.1',
  NODE_ENV: 'test',
  LOG_LEVEL: 'error',
  SHUTDOWN_GRACE_MS: '1000',
  JWT_SECRET: TEST_JWT_SECRET,
  ANONYMOUS_TOPICS: '**',
};

/** Starts the real AppModule in-process on 127.0.0.1 with a random port. */
export function startTestGateway(
  env: Record<string, string> = {},
  options: GatewayOptions = {},
): Promise<Gateway> {
  return startGateway({ ...TEST_ENV, ...env }, options);
}

export type { Gateway };

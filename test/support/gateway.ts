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
  // Limits out of the way; the limits suites set their own.
  CONNECT_BURST: '1000000',
  CONNECT_RATE_PER_S: '1000000',
  PUBLISH_BURST: '1000000',
  PUBLISH_RATE_PER_S: '1000000',
  MAX_CONNECTIONS_PER_IP: '1000000',
  MAX_CONNECTIONS_PER_USER: '1000000',
};

/** Starts the real AppModule in-process on 127.0.0.1 with a random port. */
export function startTestGateway(
  env: Record<string, string> = {},
  options: GatewayOptions = {},
): Promise<Gateway> {
  return startGateway({ ...TEST_ENV, ...env }, options);
}

export type { Gateway };

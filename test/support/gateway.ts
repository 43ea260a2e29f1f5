import { startGateway, type Gateway } from '../../apps/gateway/src/bootstrap';
import type { HttpServerLimits } from '../../apps/gateway/src/http/http-server';

/** Settings every test gateway starts with: loopback, port 0, quiet logs. */
export const TEST_ENV: Readonly<Record<string, string>> = {
  PORT: '0',
  HOST: '127.0.0.1',
  NODE_ENV: 'test',
  LOG_LEVEL: 'error',
  SHUTDOWN_GRACE_MS: '1000',
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
  http: Partial<HttpServerLimits> = {},
): Promise<Gateway> {
  return startGateway({ ...TEST_ENV, ...env }, http);
}

export type { Gateway };

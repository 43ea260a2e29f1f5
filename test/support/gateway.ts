import { startGateway, type Gateway, type GatewayOptions } from '../../apps/gateway/src/bootstrap';

/** Settings every test gateway starts with: loopback, port 0, quiet logs. */
export const TEST_ENV: Readonly<Record<string, string>> = {
  PORT: '0',
  HOST: '127.0.0.1',
  NODE_ENV: 'test',
  LOG_LEVEL: 'error',
  SHUTDOWN_GRACE_MS: '1000',
};

/** Starts the real AppModule in-process on 127.0.0.1 with a random port. */
export function startTestGateway(
  env: Record<string, string> = {},
  options: GatewayOptions = {},
): Promise<Gateway> {
  return startGateway({ ...TEST_ENV, ...env }, options);
}

export type { Gateway };

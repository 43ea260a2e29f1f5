// Herald's settings in every bench: real defaults, except caps and rates sized for the load and
// JSON logs at warn (as in production: pretty-printing would cost CPU the bench measures).

/** The gateway environment for a bench with `JWT_SECRET` = `secret`, plus `extra`. */
export function benchGatewayEnv(secret, extra = {}) {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    JWT_SECRET: secret,
    HEARTBEAT_MS: '60000',
    HISTORY_SIZE: '10000',
    MAX_CONNECTIONS: '50000',
    MAX_CONNECTIONS_PER_USER: '50000',
    MAX_CONNECTIONS_PER_IP: '50000',
    CONNECT_RATE_PER_S: '100000',
    CONNECT_BURST: '100000',
    PUBLISH_RATE_PER_S: '1000000',
    PUBLISH_BURST: '1000000',
    SHUTDOWN_GRACE_MS: '0',
    ...extra,
  };
}

import type { Environment } from './herald.config';

/** Environment settings of the `herald` CLI (on top of the gateway's own keys, for `token`). */
export interface CliEnvironment {
  /** Gateway base URL: HERALD_URL, else `http://localhost:<PORT or 3000>`. */
  readonly url: string;
  /** Bearer token for publish, tail and doctor: HERALD_TOKEN (unset: none). */
  readonly token: string | undefined;
  /** Colours are off when NO_COLOR is set (https://no-color.org) or TERM is `dumb`. */
  readonly noColor: boolean;
}

/** Reads the CLI's settings; `env` defaults to the process environment. */
export function cliEnvironment(env: Environment = process.env): CliEnvironment {
  const port = env.PORT !== undefined && /^\d{1,5}$/.test(env.PORT) ? env.PORT : '3000';
  const token = env.HERALD_TOKEN?.trim();
  return {
    url: env.HERALD_URL?.trim() || `http://localhost:${port}`,
    token: token === undefined || token === '' ? undefined : token,
    noColor: (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb',
  };
}

import type { CliEnvironment } from '@herald/config';
import { UsageError } from './cli.output';

/** `base` (a gateway URL) joined with `path`; `base` may carry a path prefix (`/herald`). */
export function endpoint(base: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--url: "${base}" is not a URL (e.g. http://localhost:3000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url: "${base}" must be http:// or https://`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  return url;
}

/** `Authorization: Bearer <token>` when a token is given. */
export function authHeaders(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { Authorization: `Bearer ${token}` };
}

/** The body of an error answer, shortened, for the user (JSON kept as is). */
export async function errorBody(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  return text.length > 2000 ? `${text.slice(0, 2000)}...` : text;
}

/** A network failure in words (`fetch failed` hides the cause). */
export function networkError(url: URL, err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return `cannot reach ${url.origin}: ${why}`;
}

/** Parses a duration such as `90s`, `15m`, `1h`, `7d` or plain seconds; returns seconds. */
export function parseDurationS(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: "${text}" is not a duration (e.g. 90s, 15m, 1h, 7d)`);
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? 's'] ?? 1;
  return Number(m[1]) * factor;
}

/** Parses a positive integer flag. */
export function parsePositiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) <= 0) {
    throw new UsageError(`${flag}: "${text}" must be a positive integer`);
  }
  return Number(text);
}

/** The `parseArgs` options of commands that talk to a gateway: `--url` and `--token`. */
export const GATEWAY_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
} as const;

/** What `--url` / `--token` were given as (unset: undefined). */
export interface GatewayFlags {
  readonly url?: string;
  readonly token?: string;
}

/** The bearer token: `--token`, else HERALD_TOKEN (CliEnvironment), else none. */
export function gatewayToken(flags: GatewayFlags, env: CliEnvironment): string | undefined {
  return flags.token ?? env.token;
}

/** `path` on the gateway: `--url`, else HERALD_URL / `http://localhost:$PORT` (see {@link endpoint}). */
export function gatewayEndpoint(flags: GatewayFlags, env: CliEnvironment, path: string): URL {
  return endpoint(flags.url ?? env.url, path);
}

import type { IncomingMessage } from 'node:http';

/** Where a token was found. */
export type TokenSource = 'header' | 'cookie' | 'query';

/** A token and its source. */
export interface FoundToken {
  readonly token: string;
  readonly source: TokenSource;
}

const BEARER = /^bearer[ \t]+([^\s]+)[ \t]*$/i;
/** Request property where the origin middleware stashes `?access_token=` after removing it. */
const QUERY_TOKEN = Symbol.for('herald.auth.query-token');

type WithQueryToken = IncomingMessage & { [QUERY_TOKEN]?: string };

/**
 * Finds a request's token in CONTRACT order: `Authorization: Bearer` (any case), the cookie
 * `cookieName`, then `?access_token=` when `queryToken` is on. The first source present wins.
 */
export function extractToken(
  req: IncomingMessage,
  cookieName: string,
  queryToken: boolean,
): FoundToken | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = BEARER.exec(auth);
    if (m) return { token: m[1], source: 'header' };
  }
  const cookie = readCookie(req.headers.cookie, cookieName);
  if (cookie) return { token: cookie, source: 'cookie' };
  if (queryToken) {
    const stashed = (req as WithQueryToken)[QUERY_TOKEN];
    const token = stashed ?? queryParam(req.url, 'access_token');
    if (token) return { token, source: 'query' };
  }
  return undefined;
}

/**
 * Removes `access_token` from `req.url` (and express's `originalUrl`) so request logs never see
 * it; the value stays readable by {@link extractToken}.
 */
export function stripQueryToken(req: IncomingMessage): void {
  const url = req.url ?? '/';
  if (!url.includes('access_token')) return;
  const q = url.indexOf('?');
  if (q < 0) return;
  const params = new URLSearchParams(url.slice(q + 1));
  const token = params.get('access_token');
  if (token === null) return;
  (req as WithQueryToken)[QUERY_TOKEN] = token;
  params.delete('access_token');
  const rest = params.toString();
  const clean = rest ? `${url.slice(0, q)}?${rest}` : url.slice(0, q);
  req.url = clean;
  const express = req as IncomingMessage & { originalUrl?: string };
  if (typeof express.originalUrl === 'string') express.originalUrl = redactUrl(express.originalUrl);
}

/** `url` with any `access_token` value replaced by `[REDACTED]`, for log lines. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&#]*/gi, '$1[REDACTED]');
}

function queryParam(url: string | undefined, name: string): string | undefined {
  if (!url) return undefined;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(name) ?? undefined;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1);
    }
    try {
      return decodeURIComponent(value) || undefined;
    } catch {
      return value || undefined;
    }
  }
  return undefined;
}

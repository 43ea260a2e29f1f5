import type { IncomingMessage } from 'node:http';

/** Where a token was found. */
export type TokenSource = 'header' | 'cookie' | 'query';

/** A token and its source. */
export interface FoundToken {
  readonly token: string;
  readonly source: TokenSource;
}

const BEARER = /^bearer[ \t]+([^\s]+)[ \t]*$/i;
/** Request property where the query-token middleware stashes `?access_token=` after removing it. */
const QUERY_TOKEN = Symbol.for('herald.auth.query-token');

type WithQueryToken = IncomingMessage & { [QUERY_TOKEN]?: string };

/** The query parameter that carries a token (CONTRACT section 3), compared after decoding. */
export const QUERY_TOKEN_PARAM = 'access_token';

/**
 * Finds a request's token in CONTRACT order: `Authorization: Bearer` (any case), the cookie
 * `cookieName`, then `?access_token=` when `queryToken` is on. The first source present wins.
 * The query is read as {@link queryPairs} decodes it, the same view {@link stripQueryToken}
 * removes from the URL, so a token is never taken from a pair that stays in the logged URL.
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
    const token = stashed ?? queryPairs(req.url).find((p) => p.name === QUERY_TOKEN_PARAM)?.value;
    if (token) return { token, source: 'query' };
  }
  return undefined;
}

const presented = new WeakMap<IncomingMessage, string>();

/**
 * {@link extractToken}, remembered on the request so the passport strategy reads the same token
 * ({@link presentedToken}) instead of looking for it again.
 */
export function findToken(
  req: IncomingMessage,
  cookieName: string,
  queryToken: boolean,
): FoundToken | undefined {
  const found = extractToken(req, cookieName, queryToken);
  if (found !== undefined) presented.set(req, found.token);
  return found;
}

/** The token {@link findToken} found on `req`, if any. */
export function presentedToken(req: IncomingMessage): string | undefined {
  return presented.get(req);
}

/** One `name=value` pair of a query: as sent, and decoded. */
export interface QueryPair {
  /** The pair as it appears in the URL (between `&`s). */
  readonly raw: string;
  /** Name and value decoded the way URLSearchParams decodes them (`+` and `%HH`). */
  readonly name: string;
  readonly value: string;
}

/**
 * The query of `url`, pair by pair, decoded exactly as `URLSearchParams` (Herald's only query
 * parser: topics, cursors and tokens are all read through it) decodes it.
 */
export function queryPairs(url: string | undefined): QueryPair[] {
  const q = url?.indexOf('?') ?? -1;
  if (url === undefined || q < 0) return [];
  const pairs: QueryPair[] = [];
  for (const raw of url.slice(q + 1).split('&')) {
    // `raw` holds no `&`, so URLSearchParams reads it as one pair (none when it is empty).
    for (const [name, value] of new URLSearchParams(raw)) pairs.push({ raw, name, value });
  }
  return pairs;
}

/**
 * Removes every pair whose decoded name is `access_token` (`access_%74oken` too) from `req.url`
 * (and express's `originalUrl`) so request logs never see it; the first one's value stays
 * readable by {@link extractToken}. Other pairs are kept as sent.
 */
export function stripQueryToken(req: IncomingMessage): void {
  const url = req.url ?? '/';
  const token = queryPairs(url).find((p) => p.name === QUERY_TOKEN_PARAM);
  if (token === undefined) return;
  (req as WithQueryToken)[QUERY_TOKEN] = token.value;
  req.url = rewriteQueryToken(url, () => undefined);
  const express = req as IncomingMessage & { originalUrl?: string };
  if (typeof express.originalUrl === 'string') express.originalUrl = redactUrl(express.originalUrl);
}

/** `url` with the value of every `access_token` pair (by decoded name) replaced by `[REDACTED]`. */
export function redactUrl(url: string): string {
  return rewriteQueryToken(url, (raw) => {
    const eq = raw.indexOf('=');
    return `${eq < 0 ? raw : raw.slice(0, eq)}=[REDACTED]`;
  });
}

/** `url` with each token pair replaced by `replace(raw)` (dropped when that is undefined). */
function rewriteQueryToken(url: string, replace: (raw: string) => string | undefined): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const kept: string[] = [];
  for (const pair of queryPairs(url)) {
    const shown = pair.name === QUERY_TOKEN_PARAM ? replace(pair.raw) : pair.raw;
    if (shown !== undefined) kept.push(shown);
  }
  return kept.length > 0 ? `${url.slice(0, q)}?${kept.join('&')}` : url.slice(0, q);
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

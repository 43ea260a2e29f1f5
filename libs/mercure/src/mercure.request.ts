import type { IncomingMessage } from 'node:http';
import { badRequest } from './mercure.errors';
import type { MercureProtocol } from './mercure.options';
import {
  MercureSelectorError,
  compileSelector,
  legacySelector,
  type MercureSelector,
} from './mercure.selector';
import type { MercureDialect } from './mercure.tokens';

/** Cookie of 1.0 subscribers (and publishers) that cannot send a header. */
export const V1_COOKIE = '__Secure-mercure_access_token';
/** Cookie of 0.x subscribers. */
export const LEGACY_COOKIE = 'mercureAuthorization';
/** Query parameter carrying a 0.x token. */
export const LEGACY_QUERY_TOKEN = 'authorization';
/** The reserved resume value: every retained update. */
export const EARLIEST = 'earliest';

/** Longest selector or topic accepted, in characters. */
export const MAX_SELECTOR_LENGTH = 2048;

/** One selector of a subscription, with the name of its matcher type in subscription events. */
export interface MercureSubscriptionSelector {
  readonly selector: MercureSelector;
  /** `Exact`, `URLPattern` (1.0) or `Legacy` (0.x `topic=`). */
  readonly matchType: 'Exact' | 'URLPattern' | 'Legacy';
}

/** A validated `GET /.well-known/mercure`. */
export interface MercureSubscribeRequest {
  readonly dialect: MercureDialect;
  readonly selectors: readonly MercureSubscriptionSelector[];
  /**
   * `Last-Event-ID` header (wins), else `lastEventID` / `last_event_id` query (0.x also
   * `Last-Event-ID`); trimmed.
   */
  readonly lastEventId: string | undefined;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** True when `value` holds a C0/C1 control character or DEL (forbidden in topics and selectors). */
export function hasControl(value: string): boolean {
  return CONTROL.test(value);
}

/**
 * Parses a subscribe request's query: 1.0 `match` / `matchExact` / `match_exact` (exact) and
 * `matchURLPattern` / `match_urlpattern`; 0.x `topic` (exact or RFC 6570 template, `*` any).
 * @throws MercureError 400 on an unknown `match*` parameter, a mix of dialects, a dialect the
 *   hub does not speak, no or too many selectors, a bad selector.
 */
export function parseSubscribe(
  req: IncomingMessage,
  protocol: MercureProtocol,
  maxSelectors: number,
): MercureSubscribeRequest {
  const params = new URLSearchParams(queryOf(req.url));
  const selectors: MercureSubscriptionSelector[] = [];
  let v1 = false;
  let legacy = false;
  for (const [name, value] of params) {
    const lower = name.toLowerCase();
    let kind: 'exact' | 'urlpattern' | 'legacy';
    if (name === 'topic') kind = 'legacy';
    else if (name === 'match' || name === 'matchExact' || name === 'match_exact') kind = 'exact';
    else if (name === 'matchURLPattern' || name === 'match_urlpattern') kind = 'urlpattern';
    else if (lower.startsWith('match')) {
      throw badRequest(
        `unknown topic matcher parameter "${printable(name)}" (use match, match_exact or match_urlpattern)`,
      );
    } else continue;
    if (kind === 'legacy') legacy = true;
    else v1 = true;
    if (value.length === 0) throw badRequest(`"${name}" must not be empty`);
    if (value.length > MAX_SELECTOR_LENGTH) {
      throw badRequest(`"${name}" is longer than ${MAX_SELECTOR_LENGTH} characters`);
    }
    if (hasControl(value)) throw badRequest(`"${name}" must not contain control characters`);
    try {
      selectors.push(
        kind === 'legacy'
          ? { selector: legacySelector(value), matchType: 'Legacy' }
          : kind === 'exact'
            ? { selector: compileSelector(value, 'exact'), matchType: 'Exact' }
            : { selector: compileSelector(value, 'urlpattern'), matchType: 'URLPattern' },
      );
    } catch (err) {
      if (err instanceof MercureSelectorError) {
        throw badRequest(`invalid ${name} "${printable(value)}": ${err.message}`);
      }
      throw err;
    }
  }
  if (v1 && legacy) {
    throw badRequest('mix of "topic" (Mercure 0.x) and "match" (Mercure 1.0) parameters');
  }
  if (legacy && protocol === 'v1') {
    throw badRequest('the "topic" parameter is not supported (MERCURE_PROTOCOL=v1): use "match"');
  }
  if (v1 && protocol === 'legacy') {
    throw badRequest('"match" parameters are not supported (MERCURE_PROTOCOL=legacy): use "topic"');
  }
  if (selectors.length === 0) {
    throw badRequest(
      protocol === 'legacy'
        ? 'at least one "topic" parameter is required'
        : 'at least one "match" (or "match_urlpattern") parameter is required',
    );
  }
  const unique = new Map<string, MercureSubscriptionSelector>();
  for (const s of selectors) unique.set(`${s.matchType}\u0000${s.selector.raw}`, s);
  if (unique.size > maxSelectors) {
    throw badRequest(`too many topic selectors: ${unique.size} (at most ${maxSelectors})`);
  }
  const header = req.headers['last-event-id'];
  const fromHeader = (Array.isArray(header) ? header[0] : header)?.trim();
  const fromQuery = (
    params.get('lastEventID') ??
    params.get('last_event_id') ??
    // Mercure 0.x hubs before `lastEventID` took the header's name as a query parameter.
    (legacy ? params.get('Last-Event-ID') : null) ??
    ''
  ).trim();
  const lastEventId = fromHeader ? fromHeader : fromQuery || undefined;
  return { dialect: legacy ? 'legacy' : 'v1', selectors: [...unique.values()], lastEventId };
}

/**
 * The token of a Mercure request and where it came from: `Authorization: Bearer` first, then
 * the 1.0 cookie {@link V1_COOKIE}; for 0.x requests also the {@link LEGACY_COOKIE} cookie and
 * the `authorization` query parameter (never for 1.0: a token in a URL ends up in logs).
 */
export function mercureToken(req: IncomingMessage, legacy: boolean): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m) return m[1];
  }
  const cookies = req.headers.cookie;
  const v1 = readCookie(cookies, V1_COOKIE);
  if (v1) return v1;
  if (!legacy) return undefined;
  const old = readCookie(cookies, LEGACY_COOKIE);
  if (old) return old;
  const query = new URLSearchParams(queryOf(req.url)).get(LEGACY_QUERY_TOKEN);
  return query || undefined;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value.startsWith('"') ? value.slice(1, -1) : value);
    } catch {
      return value;
    }
  }
  return undefined;
}

function queryOf(url: string | undefined): string {
  const q = (url ?? '').indexOf('?');
  return q < 0 ? '' : (url ?? '').slice(q + 1);
}

function printable(value: string): string {
  const shown = value.length > 64 ? `${value.slice(0, 64)}...` : value;
  // eslint-disable-next-line no-control-regex
  return shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSecure } from '@herald/http';

/** Options of {@link transportSecurityMiddleware}. */
export interface TransportSecurityOptions {
  /** REQUIRE_HTTPS: plain-HTTP requests are redirected (GET/HEAD) or refused (others). */
  readonly requireHttps: boolean;
  /** HSTS_MAX_AGE_S, sent on HTTPS responses only. */
  readonly hstsMaxAgeS: number;
}

type Next = (err?: unknown) => void;

/** Strict CSP of the demo page: its own script and same-origin fetch/EventSource only. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "connect-src 'self'",
  // The page keeps one inline <style> block; no inline script is allowed.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** CSP of every other (API) response: nothing may be loaded or framed. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** Probes and scrapes work over plain HTTP whatever REQUIRE_HTTPS says. */
function isExempt(path: string): boolean {
  return path === '/health' || path.startsWith('/health/') || path === '/metrics';
}

/**
 * Security headers on every response, HSTS on HTTPS responses, and REQUIRE_HTTPS: a plain-HTTP
 * request (by the socket, or `X-Forwarded-Proto` from a hop trusted per TRUST_PROXY) gets `308`
 * to the same URL on https for GET/HEAD and `403` otherwise; `/health*` and `/metrics` are exempt.
 * Runs after the request logger (which resolves the client address).
 */
export function transportSecurityMiddleware(options: TransportSecurityOptions) {
  const hsts = `max-age=${options.hstsMaxAgeS}`;
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const path = (req.url ?? '/').split('?')[0];
    const secure = isSecure(req);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Content-Security-Policy', path === '/' ? PAGE_CSP : API_CSP);
    if (secure) res.setHeader('Strict-Transport-Security', hsts);
    if (secure || !options.requireHttps || isExempt(path)) {
      next();
      return;
    }
    const host = req.headers.host;
    if ((req.method === 'GET' || req.method === 'HEAD') && host !== undefined && HOST.test(host)) {
      res.writeHead(308, { Location: `https://${host}${req.url ?? '/'}`, 'Content-Length': '0' });
      res.end();
      return;
    }
    const body = JSON.stringify({ statusCode: 403, error: 'Forbidden', message: 'HTTPS required' });
    res.writeHead(403, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
    });
    res.end(body);
  };
}

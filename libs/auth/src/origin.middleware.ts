import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition';
import type { AuthModuleOptions } from './auth.options';
import { stripQueryToken } from './token.extractor';

const ALLOW_HEADERS = 'Authorization, Content-Type, Last-Event-ID, Idempotency-Key';
const ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';

/**
 * Runs first on every route. Removes `?access_token=` from the URL (kept for the guards) so no
 * log line sees it, and enforces CORS_ORIGINS: exact-match allowlist, credentials only for listed
 * origins, preflight answered here, and any other cross-origin request refused with 403.
 * Same-origin requests (Origin equal to the Host the browser addressed) always pass.
 */
@Injectable()
export class OriginMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  private readonly allowed: ReadonlySet<string>;

  constructor(@Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions) {
    this.allowed = new Set(options.corsOrigins);
  }

  use(req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void {
    stripQueryToken(req);
    if (this.allowed.size === 0) return next();
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    if (this.allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        res.statusCode = 204;
        res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
        res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
        res.setHeader('Access-Control-Max-Age', '600');
        res.setHeader('Content-Length', '0');
        res.end();
        return;
      }
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After, WWW-Authenticate');
      return next();
    }
    if (isSameOrigin(origin, req.headers.host)) return next();
    const body = JSON.stringify({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Origin not allowed',
    });
    res.writeHead(403, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Length': String(Buffer.byteLength(body)),
    });
    res.end(body);
  }
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { AuthError, AuthErrorCode } from '@herald/auth';
import { HeraldConfig } from '@herald/config';
import { httpErrorOf } from '@herald/http';

const ALLOW_HEADERS = 'Authorization, Content-Type, Last-Event-ID, Idempotency-Key';
const ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';

/**
 * Runs on every route, before the guards. Enforces CORS_ORIGINS: exact-match allowlist,
 * credentials only for listed origins, preflight answered here, and any other cross-origin
 * request refused with 403 (`origin-not-allowed`). Same-origin requests (Origin equal to the
 * Host the browser addressed) always pass.
 */
@Injectable()
export class CorsMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  private readonly allowed: ReadonlySet<string>;

  constructor(config: HeraldConfig) {
    this.allowed = new Set(config.CORS_ORIGINS);
  }

  use(req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void {
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
    const refusal = httpErrorOf(
      new AuthError(AuthErrorCode.OriginNotAllowed, 'Origin not allowed'),
    );
    const body = JSON.stringify(refusal.body);
    res.writeHead(refusal.status, {
      ...refusal.headers,
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

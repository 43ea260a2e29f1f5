import { HttpException } from '@nestjs/common';

/** RFC 6750 error codes of a refused Mercure request. */
export type MercureBearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/**
 * A refused Mercure request: the status, a message naming the problem, and the RFC 6750
 * `WWW-Authenticate: Bearer` challenge (no error code when no token was presented).
 */
export class MercureError extends HttpException {
  readonly headers: Record<string, string>;

  constructor(
    status: 400 | 401 | 403 | 404 | 413 | 415,
    message: string,
    bearer?: MercureBearerError,
  ) {
    super(message, status);
    this.name = 'MercureError';
    this.headers =
      status === 401 || status === 403 || bearer !== undefined
        ? {
            'WWW-Authenticate':
              bearer === undefined
                ? 'Bearer realm="mercure"'
                : `Bearer realm="mercure", error="${bearer}"`,
          }
        : {};
  }
}

/** 400 `invalid_request`. */
export function badRequest(message: string): MercureError {
  return new MercureError(400, message, 'invalid_request');
}

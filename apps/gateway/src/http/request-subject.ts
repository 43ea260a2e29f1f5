import type { IncomingMessage } from 'node:http';

/**
 * The authenticated subject of a request (the token `sub` that the auth guard put on
 * `req.user`), or `undefined` for anonymous requests. Limits are per subject, else per IP.
 */
export function requestSubject(req: IncomingMessage): string | undefined {
  const user = (req as IncomingMessage & { user?: { sub?: unknown } }).user;
  return typeof user?.sub === 'string' && user.sub !== '' ? user.sub : undefined;
}

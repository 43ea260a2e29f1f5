import type { IncomingMessage } from 'node:http';
import { PRINCIPAL, type AuthenticatedRequest } from '@herald/auth';

/**
 * The authenticated subject of a request (the token `sub` of the principal a Herald auth guard
 * stored on it), or `undefined` for anonymous requests. Limits are per subject, else per IP.
 * Guards using it must run after the auth guard.
 */
export function requestSubject(req: IncomingMessage): string | undefined {
  const sub = (req as AuthenticatedRequest)[PRINCIPAL]?.sub;
  return typeof sub === 'string' && sub !== '' ? sub : undefined;
}

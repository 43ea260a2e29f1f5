import type { IncomingMessage, ServerResponse } from 'node:http';

/** Per-request state the Express router leaves on `req`/`res`, unused once a stream is open. */
const ROUTER_STATE = ['next', '_parsedUrl', '_parsedOriginalUrl', 'route', 'params'];

/**
 * Drops what routing attached to a long-lived stream's request and response (router closures,
 * parsed URLs, `res.locals`), so an idle connection keeps only what the stream needs.
 */
export function releaseRoutingState(req: IncomingMessage, res: ServerResponse): void {
  const r = req as unknown as Record<string, unknown>;
  for (const key of ROUTER_STATE) {
    if (Object.hasOwn(r, key)) r[key] = undefined;
  }
  if (Object.hasOwn(res, 'locals')) (res as unknown as Record<string, unknown>).locals = undefined;
}

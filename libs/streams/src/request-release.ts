import { IncomingMessage, type ServerResponse } from 'node:http';

/** Per-request state the Express router leaves on `req`/`res`, unused once a stream is open. */
const ROUTER_STATE = ['next', '_parsedUrl', '_parsedOriginalUrl', 'route', 'params'];

/**
 * Drops what routing attached to a long-lived stream's request and response (router closures,
 * parsed URLs, `res.locals`), so an idle connection keeps only what the stream needs. Node keeps
 * the sent header block (`res._header`) for the response's life as the concatenation tree it
 * was built as (about 30 string pieces): once sent it is replaced by one flat copy.
 */
export function releaseRoutingState(req: IncomingMessage, res: ServerResponse): void {
  const r = req as unknown as Record<string, unknown>;
  for (const key of ROUTER_STATE) {
    if (Object.hasOwn(r, key)) r[key] = undefined;
  }
  const out = res as unknown as Record<string, unknown>;
  if (Object.hasOwn(out, 'locals')) out.locals = undefined;
  const header = out._header;
  if (res.headersSent && typeof header === 'string' && header.length > 0) {
    // Only its truthiness is read after the headers went out (`headersSent`).
    out._header = Buffer.from(header, 'latin1').toString('latin1');
  }
}

/**
 * Drops an open stream's request header storage (`rawHeaders`, and `headers` /
 * `headersDistinct` if they were built): read while the request is routed, authenticated and
 * admitted, never after the stream opened, yet kept by Node for the response's life, credentials
 * (`Authorization`, `Cookie`) included. Called once Nest's part of the request is over. HTTP/2
 * requests (whose headers are the stream's own) are left as they are.
 */
export function releaseRequestHeaders(req: IncomingMessage): void {
  if (!(req instanceof IncomingMessage)) return;
  req.rawHeaders = [];
  req.headers = {};
  req.headersDistinct = {};
}

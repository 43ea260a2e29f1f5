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

/** Node's own store of a response's `setHeader` headers (`kOutHeaders`), found once. */
let outHeaders: symbol | undefined;

/**
 * Drops an open stream's header storage: the request's (`rawHeaders`, and `headers` /
 * `headersDistinct` if they were built), read while the request is routed, authenticated and
 * admitted, never after the stream opened, yet kept by Node for the response's life, credentials
 * (`Authorization`, `Cookie`) included; and the response's set headers (a `[name, value]` array
 * per header), which were sent as the head and are not read again (`getHeader` then answers
 * nothing; `null` is Node's own state of a response that set none). Called once Nest's part of
 * the request is over, and only for a stream on the direct path (no operator of the route runs
 * after open: a piped route's `map`/`filter` may read `req.headers` per event). HTTP/2 requests
 * and responses are left as they are.
 */
export function releaseHeaderStorage(req: IncomingMessage, res: ServerResponse): void {
  if (!(req instanceof IncomingMessage)) return;
  req.rawHeaders = [];
  req.headers = {};
  req.headersDistinct = {};
  if (!res.headersSent) return;
  outHeaders ??= Object.getOwnPropertySymbols(res).find((s) => s.description === 'kOutHeaders');
  if (outHeaders !== undefined) (res as unknown as Record<symbol, unknown>)[outHeaders] = null;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger as PinoLogger } from 'pino';
import {
  HeraldMetrics,
  requestContext,
  requestIdFrom,
  statusClass,
  type LogScrubber,
  type RouteLabel,
} from '@herald/telemetry';
import { bindClientAddress, type ProxyTrust } from './client-ip';

/** What {@link requestLogMiddleware} needs. */
export interface RequestLogDeps {
  readonly logger: PinoLogger;
  readonly scrubber: LogScrubber;
  readonly metrics: HeraldMetrics;
  readonly trust: ProxyTrust;
}

type Next = (err?: unknown) => void;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * First middleware of every request: resolves the client address (TRUST_PROXY), assigns the
 * request id (a sane incoming `X-Request-Id`, else a UUID; echoed in the response), runs the
 * rest of the request in its log context, and on completion writes one access log line (URL
 * secrets scrubbed by {@link LogScrubber.url}, in time linear in the URL's length) and counts it
 * in `herald_http_requests_total`.
 */
export function requestLogMiddleware(deps: RequestLogDeps) {
  const { logger, scrubber, metrics, trust } = deps;
  return (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const started = performance.now();
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', requestId);
    const { ip } = bindClientAddress(req, trust);
    const method = METHODS.has(req.method ?? '') ? (req.method as string) : 'OTHER';
    const path = (req.url ?? '/').split('?')[0];
    const route = routeOf(method, path);
    let done = false;
    const complete = (aborted: boolean) => {
      if (done) return;
      done = true;
      const status = res.statusCode;
      metrics.httpRequests.inc({ method, route, code_class: statusClass(status) });
      if (route === 'events' && status >= 400 && status !== 429 && status !== 503) {
        metrics.connectionsOpened.inc({ result: 'refused' });
      }
      const quiet = route === 'health' || route === 'metrics';
      const level = quiet ? 'debug' : status >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          reqId: requestId,
          method: req.method,
          url: scrubber.url(req.url ?? '/'),
          status,
          durationMs: Math.round(performance.now() - started),
          ip,
          ...(aborted ? { aborted: true } : {}),
        },
        'request completed',
      );
    };
    // 'close' follows 'finish' on every response (the next tick), and also ends an aborted one:
    // one plain listener per request instead of two `once` wrappers kept for a stream's life.
    res.on('close', () => complete(!res.writableFinished));
    requestContext.run({ requestId }, next);
  };
}

function routeOf(method: string, path: string): RouteLabel {
  if (path === '/events') return method === 'POST' ? 'publish' : 'events';
  if (path === '/health' || path.startsWith('/health/')) return 'health';
  if (path === '/metrics') return 'metrics';
  if (path.startsWith('/admin/') || path === '/admin') return 'admin';
  // Herald's own static pages (demo and operator console) share one label.
  if (path === '/' || path === '/demo.js' || path === '/favicon.ico') return 'demo';
  if (path === '/console' || path.startsWith('/console/')) return 'demo';
  return 'other';
}

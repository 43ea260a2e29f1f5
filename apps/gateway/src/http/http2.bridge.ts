import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import {
  constants,
  Http2ServerRequest,
  Http2ServerResponse,
  type Http2SecureServer,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Express } from 'express';

/**
 * Header names HTTP/2 forbids in a message (RFC 9113 section 8.2.2): connection-specific ones.
 * Code written for HTTP/1.1 (`Connection: close` after a refused body, the SSE headers' `Connection:
 * keep-alive`) may set them; over HTTP/2 they are dropped instead of sent (or thrown on by Node).
 */
const CONNECTION_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;
type WriteHead = (this: Http2ServerResponse, status: number, ...args: unknown[]) => unknown;
type Handle = (req: AnyRequest, res: AnyResponse, next?: (err?: unknown) => void) => void;

/**
 * A request listener for `http2.createSecureServer({ allowHTTP1: true })` that runs one Express
 * app for both protocols. HTTP/1.1 requests go to the app as they always have. For HTTP/2 ones,
 * Express's own request and response methods are mixed onto prototypes derived from Node's
 * `Http2ServerRequest` / `Http2ServerResponse` (Express itself would swap the objects onto
 * HTTP/1 prototypes, which is why `createSecureServer(options, app)` crashes), so routing,
 * middleware and Nest's pipeline run unchanged. The HTTP/2 request gets a `Host` header from
 * `:authority` (same-origin and redirect checks read it), and connection-specific headers are
 * dropped from HTTP/2 responses.
 */
export function expressOverHttp2(app: Express): (req: AnyRequest, res: AnyResponse) => void {
  const expressRequest = Object.getPrototypeOf(app.request) as object;
  const expressResponse = Object.getPrototypeOf(app.response) as object;
  const appProp = { configurable: true, enumerable: true, writable: true, value: app };
  const request = Object.create(Http2ServerRequest.prototype, {
    ...Object.getOwnPropertyDescriptors(expressRequest),
    app: appProp,
  }) as object;
  const response = Object.create(Http2ServerResponse.prototype, {
    ...Object.getOwnPropertyDescriptors(expressResponse),
    app: appProp,
    setHeader: {
      configurable: true,
      writable: true,
      value(this: Http2ServerResponse, name: string, value: number | string | string[]) {
        const lower = name.toLowerCase();
        if (CONNECTION_HEADERS.has(lower)) {
          if (lower === 'connection' && String(value).toLowerCase() === 'close') {
            resetUnreadRequest(this);
          }
          return this;
        }
        return Http2ServerResponse.prototype.setHeader.call(this, name, value);
      },
    },
    writeHead: {
      configurable: true,
      writable: true,
      value(this: Http2ServerResponse, status: number, ...rest: unknown[]) {
        const last = rest.length - 1;
        if (last >= 0 && typeof rest[last] === 'object' && rest[last] !== null) {
          rest[last] = withoutConnectionHeaders(rest[last] as OutgoingHttpHeaders);
        }
        return (Http2ServerResponse.prototype.writeHead as WriteHead).call(this, status, ...rest);
      },
    },
  }) as object;
  // `this.request` / `this.response` are the prototypes Express puts under req/res.
  const http2App = Object.create(app, {
    request: { value: request },
    response: { value: response },
  }) as { handle: Handle };
  const handle = (app as unknown as { handle: Handle }).handle;
  return (req, res) => {
    if (req instanceof Http2ServerRequest) {
      req.headers.host ??= req.authority;
      req.stream.once('aborted', onStreamAborted);
      handle.call(http2App, req, res);
      return;
    }
    app(req, res as ServerResponse);
  };
}

/**
 * The client reset the stream while the response was still open. Node destroys it (and the
 * response emits 'close') only for an error code: after `RST_STREAM(NO_ERROR)` with a write
 * still pending, the stream stays half-alive and 'close' never comes, so an SSE stream would
 * hold its slot forever. Destroy it once Node's own close handling is done.
 */
function onStreamAborted(this: ServerHttp2Stream): void {
  setImmediate(destroyStream, this);
}

function destroyStream(stream: ServerHttp2Stream): void {
  if (!stream.destroyed) stream.destroy();
}

/**
 * HTTP/1.1 code says `Connection: close` when it answers without reading the request body (413,
 * 415, a refused publisher), so the socket does not have to drain it. The HTTP/2 equivalent
 * (RFC 9113 section 8.1): once the response is complete, reset the stream with NO_ERROR if the
 * request is still coming, so the client stops sending and the stream does not stay half-open.
 */
function resetUnreadRequest(res: Http2ServerResponse): void {
  const marked = res as Http2ServerResponse & { [RESET_UNREAD]?: true };
  if (marked[RESET_UNREAD]) return;
  marked[RESET_UNREAD] = true;
  const stream = res.stream;
  stream.once('finish', () => {
    if (!stream.destroyed && !res.req.complete) stream.close(constants.NGHTTP2_NO_ERROR);
  });
}

const RESET_UNREAD = Symbol('herald.resetUnreadRequest');

function withoutConnectionHeaders(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  if (Array.isArray(headers)) return headers;
  let out: OutgoingHttpHeaders | undefined;
  for (const name of Object.keys(headers)) {
    if (!CONNECTION_HEADERS.has(name.toLowerCase())) continue;
    out ??= { ...headers };
    delete out[name];
  }
  return out ?? headers;
}

/**
 * The HTTP/2 sessions of a server, for a graceful stop: {@link goAway} sends GOAWAY on each
 * (no new streams; open ones finish), and sessions still open after `graceMs` are destroyed.
 * A session with no open stream for `idleMs` is closed (HTTP/1.1's keep-alive timeout).
 */
export class Http2Sessions {
  private readonly sessions = new Set<ServerHttp2Session>();

  constructor(server: Http2SecureServer, idleMs: number) {
    server.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      let streams = 0;
      session.on('stream', (stream) => {
        streams++;
        stream.once('close', () => streams--);
      });
      session.setTimeout(idleMs, () => {
        if (streams === 0) session.close();
      });
      session.once('close', () => this.sessions.delete(session));
      // A broken session is the client's problem; it must not reach the process.
      session.on('error', () => session.destroy());
    });
    server.on('sessionError', () => undefined);
  }

  /** Open sessions. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * GOAWAY on every open session: the client opens no new stream on it and its open streams run
   * on (sessions accepted later are not affected). With `graceMs`, sessions still open after it
   * are destroyed.
   */
  goAway(graceMs?: number): void {
    for (const session of this.sessions) {
      if (!session.closed) session.close();
    }
    if (graceMs === undefined || this.sessions.size === 0) return;
    const timer = setTimeout(() => {
      for (const session of this.sessions) session.destroy();
    }, graceMs);
    timer.unref();
  }
}

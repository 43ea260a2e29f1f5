import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import { createParser } from 'eventsource-parser';

/** What to probe. */
export interface ProbeOptions {
  /** The stream URL (GET). */
  readonly url: URL;
  readonly token?: string;
  readonly origin?: string;
  /** How long to keep the stream open, from the response headers. */
  readonly idleMs: number;
  /** Accept certificates that do not verify. */
  readonly insecure: boolean;
  /** Extra trusted CA certificates (PEM), e.g. a private CA. */
  readonly ca?: Buffer;
  /** Called about every 250 ms while the stream is open. */
  readonly onProgress?: (elapsedMs: number, observation: StreamObservation) => void;
  readonly signal?: AbortSignal;
}

/** TLS handshake facts (HTTPS only), from a separate connection offering h2 and http/1.1. */
export interface TlsObservation {
  readonly protocol: string | null;
  readonly alpn: string | false;
  readonly authorized: boolean;
  readonly authorizationError?: string;
  readonly validTo?: string;
  readonly error?: string;
}

/** An SSE comment or field as it arrived (ms since the request started). */
export interface Arrival {
  readonly at: number;
  /** Index of the network chunk that carried it. */
  readonly chunk: number;
}

/** What the stream did. */
export interface StreamObservation {
  error?: string;
  /** ms at which the connection (TCP, or TLS for https) was up. */
  connectedAt?: number;
  /** True when the request was sent but no response headers came within the window. */
  headersHeld?: boolean;
  status?: number;
  httpVersion?: string;
  headers: Record<string, string | string[] | undefined>;
  /** Body of a non-200 answer (first 2 KB). */
  body?: string;
  /** ms from request start to the response headers. */
  headersAt?: number;
  /** ms from request start to the first body byte. */
  firstByteAt?: number;
  /** Arrival time of every network chunk. */
  chunks: number[];
  comments: Arrival[];
  retries: (Arrival & { value: number })[];
  events: (Arrival & { event: string; data: string })[];
  /** ms at which the stream ended by itself (before the idle window closed). */
  endedAt?: number;
  endReason?: string;
}

/** A CORS preflight answer for a publish from `origin`. */
export interface PreflightObservation {
  readonly status?: number;
  readonly allowOrigin?: string;
  readonly allowMethods?: string;
  readonly allowHeaders?: string;
  readonly error?: string;
}

/** Everything the doctor measured. */
export interface ProbeResult {
  readonly url: string;
  readonly idleMs: number;
  /** The Origin sent (--origin), if any. */
  readonly origin?: string;
  readonly tls?: TlsObservation;
  readonly stream: StreamObservation;
  readonly preflight?: PreflightObservation;
}

/** Connects to the TLS endpoint offering h2 first, as a browser does, and reports the handshake. */
export function probeTls(url: URL, ca?: Buffer, timeoutMs = 5000): Promise<TlsObservation> {
  return new Promise((done) => {
    const socket = tlsConnect({
      host: url.hostname,
      port: Number(url.port || 443),
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
      ALPNProtocols: ['h2', 'http/1.1'],
      rejectUnauthorized: false,
      ...(ca === undefined ? {} : { ca }),
      timeout: timeoutMs,
    });
    const finish = (o: TlsObservation) => {
      socket.destroy();
      done(o);
    };
    socket.once('secureConnect', () => {
      const cert: PeerCertificate = socket.getPeerCertificate();
      finish({
        protocol: socket.getProtocol(),
        alpn: socket.alpnProtocol ?? false,
        authorized: socket.authorized,
        authorizationError:
          socket.authorizationError === null ? undefined : String(socket.authorizationError),
        validTo: cert.valid_to,
      });
    });
    socket.once('timeout', () =>
      finish({ protocol: null, alpn: false, authorized: false, error: 'TLS handshake timed out' }),
    );
    socket.once('error', (err: Error) =>
      finish({ protocol: null, alpn: false, authorized: false, error: err.message }),
    );
  });
}

function decoded(res: IncomingMessage): Readable {
  switch ((res.headers['content-encoding'] ?? '').toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return res.pipe(createGunzip());
    case 'deflate':
      return res.pipe(createInflate());
    case 'br':
      return res.pipe(createBrotliDecompress());
    default:
      return res;
  }
}

/** Opens the stream as a browser would and records when each byte, comment and field arrives. */
export function probeStream(options: ProbeOptions): Promise<StreamObservation> {
  const o: StreamObservation = { headers: {}, chunks: [], comments: [], retries: [], events: [] };
  const started = performance.now();
  const now = () => Math.round(performance.now() - started);
  const headers: Record<string, string> = {
    Accept: 'text/event-stream',
    'Cache-Control': 'no-cache',
    'Accept-Encoding': 'gzip, deflate, br',
    'User-Agent': 'herald-doctor',
  };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  if (options.origin !== undefined) headers.Origin = options.origin;
  const request = options.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((done) => {
    let finished = false;
    let progress: NodeJS.Timeout | undefined;
    let window: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(progress);
      clearTimeout(window);
      clearTimeout(headersDeadline);
      req.destroy();
      done(o);
    };
    const req = request(options.url, {
      method: 'GET',
      headers,
      rejectUnauthorized: !options.insecure,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
    options.signal?.addEventListener('abort', finish, { once: true });
    req.once('socket', (socket) => {
      socket.once(options.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
        o.connectedAt = now();
      });
    });
    // A hop that holds the whole response (compression, caching) holds the headers too.
    const headersDeadline = setTimeout(
      () => {
        if (o.status !== undefined) return;
        if (o.connectedAt !== undefined) o.headersHeld = true;
        else o.error = `no connection within ${Math.max(options.idleMs, 5000)} ms`;
        finish();
      },
      Math.max(options.idleMs, 5000),
    );
    req.once('error', (err) => {
      if (o.status === undefined) o.error = err.message;
      else if (o.endedAt === undefined) {
        o.endedAt = now();
        o.endReason = err.message;
      }
      finish();
    });
    req.once('response', (res) => {
      clearTimeout(headersDeadline);
      o.status = res.statusCode;
      o.httpVersion = res.httpVersion;
      o.headers = res.headers;
      o.headersAt = now();
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 2048) body += d;
        });
        res.once('end', () => {
          o.body = body.slice(0, 2048);
          finish();
        });
        res.once('error', finish);
        return;
      }
      window = setTimeout(finish, options.idleMs);
      if (options.onProgress) {
        const report = options.onProgress;
        progress = setInterval(() => report(now() - (o.headersAt ?? 0), o), 250);
      }
      let chunk = -1;
      res.on('data', () => {
        const at = now();
        o.firstByteAt ??= at;
        o.chunks.push(at);
      });
      const parser = createParser({
        onEvent: (m) =>
          o.events.push({ at: now(), chunk, event: m.event ?? 'message', data: m.data }),
        onComment: () => o.comments.push({ at: now(), chunk }),
        onRetry: (value) => o.retries.push({ at: now(), chunk, value }),
      });
      const body = decoded(res);
      body.setEncoding('utf8');
      body.on('data', (text: string) => {
        chunk++;
        parser.feed(text);
      });
      const ended = (reason: string) => {
        if (finished) return;
        o.endedAt = now();
        o.endReason = reason;
        finish();
      };
      body.once('end', () => ended('closed by the server or a proxy'));
      body.once('error', (err) => ended(err.message));
      res.once('aborted', () => ended('connection reset'));
    });
    req.end();
  });
}

/** Sends the preflight a browser sends before a cross-origin publish. */
export function probePreflight(
  url: URL,
  origin: string,
  insecure: boolean,
  ca?: Buffer,
): Promise<PreflightObservation> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((done) => {
    const req = request(url, {
      method: 'OPTIONS',
      rejectUnauthorized: !insecure,
      ...(ca === undefined ? {} : { ca }),
      timeout: 5000,
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    req.once('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.once('error', (err) => done({ error: err.message }));
    req.once('response', (res) => {
      res.resume();
      const h = (name: string) => {
        const v = res.headers[name];
        return Array.isArray(v) ? v.join(', ') : v;
      };
      done({
        status: res.statusCode,
        allowOrigin: h('access-control-allow-origin'),
        allowMethods: h('access-control-allow-methods'),
        allowHeaders: h('access-control-allow-headers'),
      });
    });
    req.end();
  });
}

import type { ProbeResult } from './doctor.probe';

/** How bad a finding is; any `error` makes `herald doctor` exit 1. */
export type Severity = 'ok' | 'info' | 'warn' | 'error';

/** How to fix a finding, per place it can be fixed. */
export interface Fixes {
  readonly herald?: string;
  readonly nginx?: string;
  readonly caddy?: string;
  readonly cloudflare?: string;
  readonly alb?: string;
}

/** One diagnosis. */
export interface Finding {
  /** Stable id (`first-bytes`, `heartbeats`, `idle-cut`, ...). */
  readonly id: string;
  readonly severity: Severity;
  readonly title: string;
  readonly detail?: string;
  readonly fix?: Fixes;
}

/** A first body byte later than this (Herald flushes `retry:` at once) means buffering. */
export const FIRST_BYTE_LIMIT_MS = 1000;
/** Two heartbeats closer than this arrived together: something held them. */
export const BURST_MS = 50;
/** Common proxy idle timeouts start at 60 s (nginx, AWS ALB); gaps above this risk cuts. */
export const PROXY_IDLE_RISK_MS = 55_000;

const BUFFERING_FIX: Fixes = {
  herald: 'Herald sends X-Accel-Buffering: no and Cache-Control: no-transform; keep them',
  nginx:
    'proxy_buffering off; in the location (and no proxy_ignore_headers X-Accel-Buffering); gzip off; for text/event-stream',
  caddy:
    'reverse_proxy streams text/event-stream unbuffered; remove flush_interval overrides and keep the events path out of `encode`',
  cloudflare:
    'do not cache the events path (Cache Rule: bypass); turn off Response Buffering (Enterprise) and Rocket Loader/Zaraz on it',
  alb: 'ALB does not buffer; look for another hop (CloudFront: caching disabled, or an nginx sidecar)',
};

const TIMEOUT_FIX: Fixes = {
  herald:
    'HEARTBEAT_MS must stay well below the shortest idle timeout of every hop (default 15000)',
  nginx:
    'proxy_read_timeout 1h; proxy_send_timeout 1h; (the default 60s cuts streams quieter than that)',
  caddy:
    'reverse_proxy has no read timeout by default; check `transport http { read_timeout }` and server `timeouts`',
  cloudflare:
    'the proxy read timeout is 100 s (Enterprise can raise it): keep HEARTBEAT_MS below it',
  alb: 'raise the idle timeout (attribute idle_timeout.timeout_seconds, default 60) above HEARTBEAT_MS',
};

const COMPRESSION_FIX: Fixes = {
  herald: 'COMPRESSION=gzip compresses per batch with a flush; let Herald do it, not the proxy',
  nginx: 'gzip off; in the events location (or drop text/event-stream from gzip_types)',
  caddy:
    'exclude the events path from `encode` (e.g. `@api not path /events*` then `encode @api gzip`)',
  cloudflare:
    'Herald sends Cache-Control: no-transform; a Compression Rule must not override it for the path',
  alb: 'ALB does not compress; look for another hop',
};

function header(r: ProbeResult, name: string): string | undefined {
  const v = r.stream.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]' || host === '::1';
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Turns measurements into findings, each with its fix. */
export function diagnose(r: ProbeResult): Finding[] {
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);
  const s = r.stream;
  const url = new URL(r.url);

  if (s.status === undefined && s.headersHeld === true) {
    add({
      id: 'first-bytes',
      severity: 'error',
      title: `connected, but no response headers within ${seconds(r.idleMs)}: a hop holds the whole stream (buffering or compression)`,
      detail:
        'Herald sends the headers and retry: at once; gzip or caching on the proxy holds them',
      fix: { ...BUFFERING_FIX, nginx: `${BUFFERING_FIX.nginx}; ${COMPRESSION_FIX.nginx}` },
    });
    return [...findings, ...tlsFindings(r, url)];
  }
  if (s.status === undefined) {
    add({
      id: 'connect',
      severity: 'error',
      title: `no HTTP answer from ${url.origin}`,
      detail: s.error,
      fix: { herald: 'check the URL, DNS, firewall and that the proxy listens on this port' },
    });
    return [...findings, ...tlsFindings(r, url)];
  }

  const type = header(r, 'content-type') ?? '';
  if (s.status !== 200) {
    const hints: Record<number, string> = {
      401: 'pass --token with a token that may subscribe to the topic',
      403: 'the token lacks the topic, the subject is revoked, or --origin is not in CORS_ORIGINS',
      404: 'this is not a Herald stream URL: point at the base URL or at .../events?topic=...',
      502: 'the proxy cannot reach Herald: check the upstream address and /health/ready',
      503: 'Herald is draining or at capacity, or the proxy has no healthy upstream',
      504: 'the proxy timed out waiting for Herald: check the upstream and its read timeout',
    };
    const redirect = s.status >= 300 && s.status < 400 ? header(r, 'location') : undefined;
    add({
      id: 'status',
      severity: 'error',
      title: `the stream request answered ${s.status}${redirect ? ` (to ${redirect})` : ''}`,
      detail: s.body?.trim() || undefined,
      fix: {
        herald:
          hints[s.status] ??
          (redirect
            ? 'use the redirect target (REQUIRE_HTTPS redirects plain HTTP)'
            : 'see the body'),
      },
    });
    return [...findings, ...tlsFindings(r, url)];
  }
  if (!type.startsWith('text/event-stream')) {
    add({
      id: 'content-type',
      severity: 'error',
      title: `200 but Content-Type is "${type}", not text/event-stream`,
      fix: {
        herald: 'point at GET /events (or a custom stream endpoint), not a page or an error page',
      },
    });
    return [...findings, ...tlsFindings(r, url)];
  }
  add({
    id: 'status',
    severity: 'ok',
    title: `stream opened: 200 text/event-stream in ${s.headersAt} ms`,
  });

  const shed = s.events.find((e) => e.event === 'herald.shed');
  if (shed) {
    add({
      id: 'shed',
      severity: 'warn',
      title: `the gateway shed this stream: ${shed.data}`,
      fix: {
        herald:
          'rate limit or capacity (CONNECT_RATE_PER_S, MAX_CONNECTIONS*): see /metrics herald_shed_total',
      },
    });
  }

  // First bytes: Herald flushes `retry:` with the headers.
  const sinceHeaders = (at: number) => at - (s.headersAt ?? 0);
  let buffering = false;
  if (s.firstByteAt === undefined) {
    buffering = s.endedAt === undefined;
    add({
      id: 'first-bytes',
      severity: buffering ? 'error' : 'warn',
      title: buffering
        ? `no body byte in ${seconds(r.idleMs)}: something between you and Herald buffers the stream`
        : 'the stream closed before any body byte',
      detail: buffering
        ? 'Herald writes retry: at once, and a heartbeat every HEARTBEAT_MS'
        : undefined,
      fix: buffering ? BUFFERING_FIX : TIMEOUT_FIX,
    });
  } else if (s.firstByteAt - (s.connectedAt ?? 0) > FIRST_BYTE_LIMIT_MS) {
    buffering = true;
    add({
      id: 'first-bytes',
      severity: 'error',
      title: `the first bytes came ${seconds(s.firstByteAt - (s.connectedAt ?? 0))} after connecting (headers after ${seconds(s.headersAt ?? 0)}): a hop held them`,
      detail: 'Herald writes the headers and retry: at once, before any event exists',
      fix: BUFFERING_FIX,
    });
  } else {
    add({
      id: 'first-bytes',
      severity: 'ok',
      title: `time to first byte ${s.firstByteAt - (s.connectedAt ?? 0)} ms after connecting (not held)`,
    });
  }

  add(
    s.retries.length > 0
      ? { id: 'retry', severity: 'ok', title: `retry: ${s.retries[0].value} ms received` }
      : {
          id: 'retry',
          severity: 'warn',
          title: 'no retry: field received',
          detail:
            'Herald sends retry: RETRY_MS first; without it browsers reconnect after their own default (~3 s)',
          fix: { herald: 'is this Herald? is the first chunk held (see first-bytes)?' },
        },
  );

  // Heartbeats: each should arrive alone, about HEARTBEAT_MS apart.
  const pings = s.comments;
  const together = pings.filter(
    (p, i) => i > 0 && (p.chunk === pings[i - 1].chunk || p.at - pings[i - 1].at < BURST_MS),
  ).length;
  if (together > 0) {
    buffering = true;
    add({
      id: 'heartbeats',
      severity: 'error',
      title: `heartbeats arrive in bursts (${together + 1} of ${pings.length} together): the stream is buffered`,
      fix: BUFFERING_FIX,
    });
  } else if (pings.length >= 2) {
    const gaps = pings.slice(1).map((p, i) => p.at - pings[i].at);
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)];
    add({
      id: 'heartbeats',
      severity: 'ok',
      title: `heartbeats on time: ${pings.length} in ${seconds(r.idleMs)}, about every ${seconds(median)}`,
    });
  } else if (pings.length === 1) {
    add({
      id: 'heartbeats',
      severity: 'ok',
      title: `one heartbeat in ${seconds(r.idleMs)}, on its own`,
    });
  } else if (!buffering && s.endedAt === undefined) {
    add({
      id: 'heartbeats',
      severity: 'warn',
      title: `no heartbeat within ${seconds(r.idleMs)}: cannot judge their timing`,
      detail: 'run with --idle-ms above twice HEARTBEAT_MS (default 15000)',
    });
  }
  const bytes = [s.headersAt ?? 0, ...s.chunks, ...(s.endedAt === undefined ? [] : [s.endedAt])];
  const maxGap = Math.max(0, ...bytes.slice(1).map((t, i) => t - bytes[i]));
  if (maxGap > PROXY_IDLE_RISK_MS) {
    add({
      id: 'gaps',
      severity: 'warn',
      title: `${seconds(maxGap)} without a byte: longer than common proxy idle timeouts (60 s)`,
      fix: TIMEOUT_FIX,
    });
  }

  // Was the stream cut while idle?
  if (s.endedAt !== undefined) {
    const last = s.events[s.events.length - 1];
    const lastByte = s.chunks.length > 0 ? s.chunks[s.chunks.length - 1] : (s.headersAt ?? 0);
    const quiet = s.endedAt - lastByte;
    if (last?.event === 'herald.drain') {
      add({
        id: 'idle-cut',
        severity: 'warn',
        title: 'the gateway is draining (herald.drain): retry later',
      });
    } else if (last?.event === 'herald.shed') {
      // reported above
    } else {
      add({
        id: 'idle-cut',
        severity: 'error',
        title: `the stream was cut after ${seconds(sinceHeaders(s.endedAt))}, ${seconds(quiet)} after its last byte (${s.endReason ?? 'closed'})`,
        detail:
          'Herald never closes a healthy stream by itself; an idle or read timeout on a hop did',
        fix: TIMEOUT_FIX,
      });
    }
  } else {
    add({
      id: 'idle-cut',
      severity: 'ok',
      title: `stayed open for the whole ${seconds(r.idleMs)} window`,
    });
  }

  // Compression and transforms.
  const encoding = header(r, 'content-encoding');
  if (encoding !== undefined && encoding !== 'identity') {
    add({
      id: 'compression',
      severity: buffering ? 'error' : 'info',
      title: buffering
        ? `Content-Encoding: ${encoding} on the event stream, and it is buffered: a compressing hop holds it`
        : `Content-Encoding: ${encoding}, flushed in time (Herald COMPRESSION=gzip, or a hop that flushes)`,
      fix: buffering ? COMPRESSION_FIX : undefined,
    });
  } else {
    add({ id: 'compression', severity: 'ok', title: 'not compressed by any hop' });
  }
  const cacheControl = header(r, 'cache-control') ?? '';
  if (!/no-transform/i.test(cacheControl)) {
    add({
      id: 'cache-control',
      severity: 'warn',
      title: `Cache-Control "${cacheControl}" lacks no-transform: intermediaries may compress or buffer`,
      fix: {
        herald: 'Herald sends no-cache, no-transform: a hop replaced it',
        nginx: 'do not set add_header/proxy_hide_header Cache-Control on the events location',
        cloudflare: 'no Transform Rule or Cache Rule should rewrite Cache-Control on the path',
      },
    });
  }
  if (header(r, 'content-length') !== undefined) {
    add({
      id: 'content-length',
      severity: 'error',
      title: 'the stream has a Content-Length: a hop buffered the whole response',
      fix: BUFFERING_FIX,
    });
  }

  // HTTP version.
  if (s.httpVersion === '1.0') {
    add({
      id: 'http-version',
      severity: 'warn',
      title: 'the answer is HTTP/1.0: no chunked streaming or keep-alive on this hop',
      fix: { nginx: 'proxy_http_version 1.1; proxy_set_header Connection "";' },
    });
  }
  findings.push(...tlsFindings(r, url));

  // CORS for a browser on another origin.
  if (r.origin !== undefined) findings.push(...corsFindings(r));
  return findings;
}

function tlsFindings(r: ProbeResult, url: URL): Finding[] {
  const out: Finding[] = [];
  if (url.protocol === 'http:') {
    out.push(
      isLoopback(url.hostname)
        ? {
            id: 'tls',
            severity: 'info',
            title: 'plain HTTP on loopback: TLS, HSTS and HTTP/2 not checked',
          }
        : {
            id: 'tls',
            severity: 'warn',
            title: 'plain HTTP: no TLS, so no HTTP/2 for browsers (6 streams per origin at most)',
            fix: {
              herald: 'TLS_CERT_FILE/TLS_KEY_FILE, or terminate TLS at the proxy',
              nginx: 'listen 443 ssl; http2 on; (nginx < 1.25.1: listen 443 ssl http2;)',
              caddy: 'Caddy serves HTTPS and HTTP/2 automatically for a domain name',
              cloudflare: 'proxy the record (orange cloud); SSL/TLS mode Full (strict)',
              alb: 'an HTTPS listener with an ACM certificate',
            },
          },
    );
    return out;
  }
  const tls = r.tls;
  if (tls === undefined) return out;
  if (tls.error !== undefined) {
    out.push({ id: 'tls', severity: 'error', title: `TLS handshake failed: ${tls.error}` });
    return out;
  }
  const days = tls.validTo
    ? Math.floor((Date.parse(tls.validTo) - Date.now()) / 86_400_000)
    : undefined;
  if (!tls.authorized) {
    out.push({
      id: 'tls',
      severity: 'error',
      title: `the certificate does not verify: ${tls.authorizationError ?? 'untrusted'}`,
      detail: 'browsers refuse it (--insecure only skips this check for the stream probe)',
      fix: { herald: 'serve the full chain (leaf + intermediates) from a trusted CA' },
    });
  } else if (days !== undefined && days < 14) {
    out.push({
      id: 'tls',
      severity: 'warn',
      title: `${tls.protocol}: the certificate expires in ${days} days`,
    });
  } else {
    out.push({
      id: 'tls',
      severity: 'ok',
      title: `${tls.protocol}, certificate valid${days === undefined ? '' : ` for ${days} more days`}`,
    });
  }
  out.push(
    tls.alpn === 'h2'
      ? {
          id: 'http2',
          severity: 'ok',
          title: 'HTTP/2 offered (ALPN h2): browser streams share one connection',
        }
      : {
          id: 'http2',
          severity: 'warn',
          title: `no HTTP/2 (ALPN ${tls.alpn || 'none'}): browsers allow 6 HTTP/1.1 connections per origin, one per EventSource`,
          fix: {
            nginx: 'http2 on; (nginx >= 1.25.1) or listen 443 ssl http2;',
            caddy: 'HTTP/2 is on by default; check `servers { protocols }`',
            cloudflare: 'Speed > Optimization > Protocol: HTTP/2 on (default)',
            alb: 'HTTPS listeners speak HTTP/2 by default (routing.http2.enabled=true)',
          },
        },
  );
  if (r.stream.status !== undefined) {
    out.push(
      header(r, 'strict-transport-security') !== undefined
        ? { id: 'hsts', severity: 'ok', title: `HSTS: ${header(r, 'strict-transport-security')}` }
        : {
            id: 'hsts',
            severity: 'warn',
            title: 'no Strict-Transport-Security header on HTTPS',
            fix: {
              herald: 'Herald adds it when it serves TLS itself (HSTS_MAX_AGE_S)',
              nginx: 'add_header Strict-Transport-Security "max-age=31536000" always;',
              caddy: 'header Strict-Transport-Security "max-age=31536000"',
              cloudflare: 'SSL/TLS > Edge Certificates > HTTP Strict Transport Security',
              alb: 'listener attribute routing.http.response.strict_transport_security.header_value',
            },
          },
    );
  }
  return out;
}

function corsFindings(r: ProbeResult): Finding[] {
  const out: Finding[] = [];
  const allow = header(r, 'access-control-allow-origin');
  const credentials = header(r, 'access-control-allow-credentials');
  const wanted = r.origin ?? '';
  const fix: Fixes = {
    herald: `CORS_ORIGINS=${wanted} (exact origins, comma-separated)`,
    nginx: 'do not add or hide Access-Control-* headers at the proxy; let Herald answer them',
    cloudflare: 'no Transform Rule should add or strip Access-Control-* headers',
  };
  if (allow === wanted && credentials === 'true') {
    out.push({
      id: 'cors',
      severity: 'ok',
      title: `CORS: ${wanted} may open the stream, with cookies`,
    });
  } else if (allow === '*') {
    out.push({
      id: 'cors',
      severity: 'warn',
      title: 'CORS answers *: EventSource withCredentials (cookie auth) fails with a wildcard',
      fix,
    });
  } else {
    out.push({
      id: 'cors',
      severity: 'error',
      title: `CORS: a page on ${wanted} cannot read this stream (Access-Control-Allow-Origin: ${allow ?? 'absent'})`,
      fix,
    });
  }
  const p = r.preflight;
  if (p !== undefined) {
    const ok =
      p.status !== undefined &&
      p.status < 300 &&
      p.allowOrigin === wanted &&
      /post/i.test(p.allowMethods ?? '') &&
      /authorization/i.test(p.allowHeaders ?? '');
    out.push(
      ok
        ? {
            id: 'cors-preflight',
            severity: 'ok',
            title: `CORS preflight for a publish from ${wanted}: allowed`,
          }
        : {
            id: 'cors-preflight',
            severity: 'warn',
            title: `CORS preflight for a publish from ${wanted}: ${p.error ?? `${p.status}, allow-origin ${p.allowOrigin ?? 'absent'}`}`,
            detail: 'only matters if browsers on that origin publish',
            fix,
          },
    );
  }
  return out;
}

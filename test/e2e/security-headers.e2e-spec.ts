import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { testTls } from '../support/tls';
import { PUBLISHER_TOKEN, bearer, claims, hs256 } from '../support/tokens';

/** What a probe needs from a response (global fetch and undici's fetch both give it). */
interface Reply {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}
type Fetch = (url: string, init?: RequestInit) => Promise<Reply>;

/** One kind of response: how to get it, and the status that proves it is that kind. */
interface Probe {
  readonly kind: string;
  readonly status: number;
  /** The demo page has its own CSP; everything else gets the API's deny-all CSP. */
  readonly page?: boolean;
  run(f: Fetch, base: string): Promise<Reply>;
}

const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const ORIGIN = 'https://app.example';
const token = (sub: string, grants: { subscribe?: string[]; publish?: string[] }) =>
  hs256(claims(grants, { sub }));
const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** Reads a stream's headers, then drops the connection (the stream itself never ends). */
async function streamHeaders(f: Fetch, url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await f(url, {
    headers: { Accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  controller.abort();
  return res;
}

/** Every kind of response the gateway sends, each with a fresh subject so limits do not mix. */
const PROBES: readonly Probe[] = [
  { kind: 'demo page', status: 200, page: true, run: (f, b) => f(`${b}/`) },
  { kind: 'demo script', status: 200, run: (f, b) => f(`${b}/demo.js`) },
  {
    kind: 'event stream',
    status: 200,
    run: (f, b) => streamHeaders(f, `${b}/events?topic=h/open`),
  },
  {
    kind: 'stream HEAD',
    status: 200,
    run: (f, b) => f(`${b}/events?topic=h/head`, { method: 'HEAD' }),
  },
  {
    kind: 'shed stream (200 + herald.shed)',
    status: 200,
    run: async (f, b) => {
      // MAX_CONNECTIONS_PER_USER=1: the first stream holds the slot, the second is shed.
      const capped = bearer(token('capped-shed', { subscribe: ['**'] }));
      const held = new AbortController();
      await f(`${b}/events?topic=h/held`, {
        headers: { Accept: 'text/event-stream', ...capped },
        signal: held.signal,
      });
      try {
        const res = await f(`${b}/events?topic=h/shed`, {
          headers: { Accept: 'text/event-stream', ...capped },
        });
        expect(await res.text()).toContain('event: herald.shed');
        return res;
      } finally {
        held.abort();
      }
    },
  },
  {
    kind: 'capacity refusal (503 JSON)',
    status: 503,
    run: async (f, b) => {
      const capped = bearer(token('capped-503', { subscribe: ['**'] }));
      const held = new AbortController();
      await f(`${b}/events?topic=h/held`, {
        headers: { Accept: 'text/event-stream', ...capped },
        signal: held.signal,
      });
      try {
        return await f(`${b}/events?topic=h/503`, {
          headers: { Accept: 'application/json', ...capped },
        });
      } finally {
        held.abort();
      }
    },
  },
  {
    kind: 'publish accepted (202 JSON)',
    status: 202,
    run: (f, b) => f(`${b}/events`, json({ topic: 'h/pub', data: 1 }, bearer(PUBLISHER_TOKEN))),
  },
  { kind: 'bad topic (400)', status: 400, run: (f, b) => f(`${b}/events?topic=a//b`) },
  {
    kind: 'invalid token (401)',
    status: 401,
    run: (f, b) => f(`${b}/events`, json({ topic: 'h/x', data: 1 }, bearer('not-a-jwt'))),
  },
  {
    kind: 'topic not permitted (403)',
    status: 403,
    run: (f, b) =>
      f(
        `${b}/events`,
        json({ topic: 'h/other', data: 1 }, bearer(token('narrow', { publish: ['h/mine'] }))),
      ),
  },
  {
    kind: 'Origin not allowed (403)',
    status: 403,
    run: (f, b) => f(`${b}/events?topic=h/o`, { headers: { Origin: 'https://evil.example' } }),
  },
  { kind: 'unknown route (404)', status: 404, run: (f, b) => f(`${b}/nope`) },
  {
    kind: 'body too large (413)',
    status: 413,
    run: (f, b) =>
      f(
        `${b}/events`,
        json(
          { topic: 'h/big', data: 'x'.repeat(200_000) },
          bearer(token('big', { publish: ['**'] })),
        ),
      ),
  },
  {
    kind: 'not JSON (415)',
    status: 415,
    run: (f, b) =>
      f(`${b}/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', ...bearer(PUBLISHER_TOKEN) },
        body: 'x',
      }),
  },
  {
    kind: 'publish rate (429)',
    status: 429,
    run: async (f, b) => {
      const burster = bearer(token('burster', { publish: ['**'] }));
      // PUBLISH_BURST=2: the third publish of this subject is refused.
      for (let i = 0; i < 2; i++)
        await (await f(`${b}/events`, json({ topic: 'h/r', data: i }, burster))).text();
      return f(`${b}/events`, json({ topic: 'h/r', data: 2 }, burster));
    },
  },
  {
    kind: 'CORS preflight (204)',
    status: 204,
    run: (f, b) =>
      f(`${b}/events`, {
        method: 'OPTIONS',
        headers: {
          Origin: ORIGIN,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,authorization',
        },
      }),
  },
  { kind: 'liveness', status: 200, run: (f, b) => f(`${b}/health/live`) },
  { kind: 'readiness', status: 200, run: (f, b) => f(`${b}/health/ready`) },
  { kind: 'metrics', status: 200, run: (f, b) => f(`${b}/metrics`) },
];

const ENV = {
  MAX_CONNECTIONS_PER_USER: '1',
  PUBLISH_BURST: '2',
  PUBLISH_RATE_PER_S: '0.001',
  MAX_EVENT_BYTES: '1024',
  CORS_ORIGINS: ORIGIN,
};

/** Checks the headers README promises on every response; `hsts` is the expected HSTS value. */
async function expectSecurityHeaders(probe: Probe, res: Reply, hsts: string | null) {
  const what = `${probe.kind}: ${res.status}`;
  expect(res.status, what).toBe(probe.status);
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(res.headers.get('x-frame-options'), what).toBe('DENY');
  expect(res.headers.get('cross-origin-opener-policy'), what).toBe('same-origin');
  expect(res.headers.get('strict-transport-security'), what).toBe(hsts);
  const csp = res.headers.get('content-security-policy') ?? '';
  if (probe.page) {
    // Same-origin scripts and connections only, nothing inline, never framed.
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
    ]) {
      expect(csp, what).toContain(directive);
    }
    expect(csp, what).not.toMatch(/unsafe-(inline|eval)/);
  } else {
    expect(csp, what).toBe(API_CSP);
  }
  await res.text().catch(() => '');
}

describe('Security headers on every kind of response (README "Security headers", HSTS)', () => {
  describe('plain HTTP', () => {
    let gw: Gateway;
    beforeAll(async () => {
      gw = await startTestGateway(ENV);
    });
    afterAll(async () => {
      await gw.app.close();
    });

    it.each(PROBES.map((p) => [p.kind, p] as const))(
      'should send the security headers and no HSTS on: %s',
      async (_kind, probe) => {
        await expectSecurityHeaders(probe, await probe.run(fetch, gw.url), null);
      },
    );
  });

  describe('HTTPS', () => {
    const tls = testTls('herald-tls-headers-');
    const secureFetch: Fetch = (url, init = {}) =>
      tls.fetch(url, init as Parameters<typeof tls.fetch>[1]);
    let gw: Gateway;
    beforeAll(async () => {
      gw = await startTestGateway({
        ...ENV,
        TLS_CERT_FILE: tls.cert,
        TLS_KEY_FILE: tls.key,
        HSTS_MAX_AGE_S: '600',
      });
    });
    afterAll(async () => {
      await gw.app.close();
      await tls.close();
    });

    it.each(PROBES.map((p) => [p.kind, p] as const))(
      'should send the security headers and HSTS on: %s',
      async (_kind, probe) => {
        await expectSecurityHeaders(probe, await probe.run(secureFetch, gw.url), 'max-age=600');
      },
    );
  });
});

import { IncomingMessage, ServerResponse, type Server } from 'node:http';
import { EventSource } from 'eventsource';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { testTls } from '../support/tls';
import { PUBLISHER_TOKEN, bearer } from '../support/tokens';
import { waitFor } from '../support/wait';

describe('HTTPS and transport security', () => {
  const files = testTls('herald-tls-');
  const secureFetch = files.fetch;

  afterAll(async () => {
    await files.close();
  });

  describe('served over TLS', () => {
    let gw: Gateway;
    beforeAll(async () => {
      gw = await startTestGateway({
        TLS_CERT_FILE: files.cert,
        TLS_KEY_FILE: files.key,
        REQUIRE_HTTPS: 'true',
        HSTS_MAX_AGE_S: '600',
      });
    });
    afterAll(async () => {
      await gw.app.close();
    });

    it('should serve HTTPS with HSTS and security headers', async () => {
      expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await secureFetch(`${gw.url}/health/ready`);
      expect(res.status).toBe(200);
      expect(res.headers.get('strict-transport-security')).toBe('max-age=600');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const page = await secureFetch(`${gw.url}/`);
      expect(page.status).toBe(200);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    });

    it("should create TLS HTTP/1.1 requests and responses on Express's prototypes", async () => {
      const server: Server = gw.app.getHttpServer();
      const app: Express = gw.app.getHttpAdapter().getInstance();
      const born: boolean[] = [];
      // Runs before the app, for the HTTP/1.1 fallback of the TLS server (allowHTTP1).
      const onRequest = (req: IncomingMessage, res: ServerResponse) => {
        if (req.httpVersionMajor !== 1) return;
        born.push(
          Object.getPrototypeOf(req) === app.request &&
            Object.getPrototypeOf(res) === app.response &&
            req instanceof IncomingMessage &&
            res instanceof ServerResponse,
        );
      };
      server.prependListener('request', onRequest);
      try {
        expect((await secureFetch(`${gw.url}/health/live`)).status).toBe(200);
      } finally {
        server.off('request', onRequest);
      }
      expect(born).toEqual([true]);
    });

    it('should stream to an EventSource over TLS', async () => {
      const es = new EventSource(`${gw.url}/events?topic=tls/a`, {
        fetch: (input, init) => secureFetch(String(input), init),
      });
      try {
        const got: string[] = [];
        es.addEventListener('message', (e) => got.push(String(e.data)));
        await new Promise<void>((resolve, reject) => {
          es.onopen = () => resolve();
          es.onerror = (e) => reject(new Error(`EventSource error: ${e.message ?? ''}`));
        });
        const res = await secureFetch(`${gw.url}/events`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...bearer(PUBLISHER_TOKEN) },
          body: JSON.stringify({ topic: 'tls/a', data: { over: 'tls' } }),
        });
        expect(res.status).toBe(202);
        await waitFor(() => got.length > 0, 'event over TLS');
        expect(got[0]).toBe('{"over":"tls"}');
      } finally {
        es.close();
      }
    });
  });

  describe('REQUIRE_HTTPS on plain HTTP behind a trusted proxy (TRUST_PROXY=loopback)', () => {
    let gw: Gateway;
    beforeAll(async () => {
      gw = await startTestGateway({ REQUIRE_HTTPS: 'true', TRUST_PROXY: 'loopback' });
    });
    afterAll(async () => {
      await gw.app.close();
    });

    it('should redirect GET and HEAD with 308 to https and refuse other methods with 403', async () => {
      const host = new URL(gw.url).host;
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(`${gw.url}/events?topic=a`, { method, redirect: 'manual' });
        expect(res.status).toBe(308);
        expect(res.headers.get('location')).toBe(`https://${host}/events?topic=a`);
        expect(res.headers.get('strict-transport-security')).toBeNull();
      }
      const post = await fetch(`${gw.url}/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ topic: 'a', data: 1 }),
      });
      expect(post.status).toBe(403);
      expect(await post.json()).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: 'HTTPS required',
      });
    });

    it('should exempt /health* and /metrics so probes work over plain HTTP', async () => {
      for (const path of ['/health', '/health/live', '/health/ready', '/metrics']) {
        const res = await fetch(`${gw.url}${path}`, { redirect: 'manual' });
        expect(res.status, path).toBe(200);
        expect(res.headers.get('strict-transport-security')).toBeNull();
      }
    });

    it('should honour X-Forwarded-Proto from the trusted hop and send HSTS', async () => {
      const res = await fetch(`${gw.url}/`, {
        headers: { 'X-Forwarded-Proto': 'https' },
        redirect: 'manual',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
    });
  });

  describe('REQUIRE_HTTPS with an untrusted hop', () => {
    for (const trust of ['false', '10.0.0.0/8']) {
      describe(`TRUST_PROXY=${trust}`, () => {
        let gw: Gateway;
        beforeAll(async () => {
          gw = await startTestGateway({ REQUIRE_HTTPS: 'true', TRUST_PROXY: trust });
        });
        afterAll(async () => {
          await gw.app.close();
        });

        it('should ignore X-Forwarded-Proto and still redirect', async () => {
          const res = await fetch(`${gw.url}/events?topic=a`, {
            headers: { 'X-Forwarded-Proto': 'https' },
            redirect: 'manual',
          });
          expect(res.status).toBe(308);
          expect(res.headers.get('strict-transport-security')).toBeNull();
        });
      });
    }
  });

  describe('plain HTTP without REQUIRE_HTTPS', () => {
    let gw: Gateway;
    beforeAll(async () => {
      gw = await startTestGateway();
    });
    afterAll(async () => {
      await gw.app.close();
    });

    it('should serve without HSTS', async () => {
      const res = await fetch(`${gw.url}/health/live`);
      expect(res.status).toBe(200);
      expect(res.headers.get('strict-transport-security')).toBeNull();
      expect(res.headers.get('content-security-policy')).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
    });
  });
});

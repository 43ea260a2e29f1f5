import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { resolve } from 'node:path';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthModule, RouteAccessAuditor } from '@herald/auth';
import { attemptStream } from '../support/auth-helpers';
import { startTestGateway, type Gateway } from '../support/gateway';
import { spawnGateway } from '../support/spawn-gateway';
import { openStream, publish } from '../support/sse-client';
import { TEST_JWT_SECRET, bearer, claims, hs256 } from '../support/tokens';
import { sleep } from '../support/wait';

const MAIN = resolve(__dirname, '../../dist/apps/gateway/src/main.js');

/** Runs the built gateway with `env` and resolves once it exits (it must not start). */
function bootFailure(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`gateway did not exit:\n${out}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

describe('Auth: routes, development mode and startup checks (RELIABILITY 12, 15)', () => {
  describe('route audit', () => {
    let gw: Gateway;
    beforeAll(async () => {
      gw = await startTestGateway({ NODE_ENV: 'development', JWT_SECRET: '' });
    });
    afterAll(async () => {
      await gw.app.close();
    });

    it('should find every route guarded or @Public(), /events guarded', () => {
      const routes = gw.app.get(RouteAccessAuditor).routes();
      expect(routes.filter((r) => r.access === 'undeclared')).toEqual([]);
      const access = Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, r.access]));
      expect(access).toMatchObject({
        'GET /events': 'guarded',
        'POST /events': 'guarded',
        'GET /health/live': 'public',
        'GET /health/ready': 'public',
        'GET /': 'public',
        'GET /dev/token': 'public',
      });
    });

    it('should account for every route the HTTP server actually serves', () => {
      const audited = new Set(
        gw.app
          .get(RouteAccessAuditor)
          .routes()
          .map((r) => `${r.method} ${r.path}`),
      );
      const express = gw.app.getHttpAdapter().getInstance() as {
        router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
      };
      const served = express.router.stack.flatMap((layer) =>
        layer.route
          ? Object.keys(layer.route.methods).map(
              (m) => `${m.toUpperCase()} ${layer.route?.path.replace(/\/$/, '') || '/'}`,
            )
          : [],
      );
      expect(served.length).toBeGreaterThan(5);
      for (const route of served) expect(audited, route).toContain(route);
    });

    it('should refuse to boot when a route is neither guarded nor public', async () => {
      @Controller('forgotten')
      class ForgottenController {
        @Get()
        leak(): string {
          return 'secret';
        }
      }
      @Module({
        imports: [
          AuthModule.forRoot({
            key: { driver: 'secret', secret: TEST_JWT_SECRET },
            algorithms: ['HS256'],
            permissionsClaim: 'herald',
            cookieName: 'herald_token',
            queryToken: true,
            anonymousTopics: [],
          }),
        ],
        controllers: [ForgottenController],
      })
      class LeakyModule {}
      const app = await NestFactory.create(LeakyModule, { logger: false });
      await expect(app.init()).rejects.toThrow(
        /GET \/forgotten.*neither guarded|neither guarded.*GET \/forgotten/,
      );
      await app.close();
    });
  });

  describe('development mode', () => {
    let dev: Gateway;
    let prod: Gateway;
    beforeAll(async () => {
      dev = await startTestGateway({
        NODE_ENV: 'development',
        JWT_SECRET: '',
        ANONYMOUS_TOPICS: '',
      });
      prod = await startTestGateway({ NODE_ENV: 'production', ANONYMOUS_TOPICS: '' });
    });
    afterAll(async () => {
      await dev.app.close();
      await prod.app.close();
    });

    it('should issue working tokens from GET /dev/token with role, topics, sub and ttl', async () => {
      const res = await fetch(
        `${dev.url}/dev/token?role=publisher&topics=demo/**,chat/*&sub=ann&ttl=600`,
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as { token: string; expiresAt: number; sub: string };
      expect(body.sub).toBe('ann');
      expect(body.expiresAt - Date.now()).toBeGreaterThan(500_000);
      expect(body.expiresAt - Date.now()).toBeLessThanOrEqual(601_000);
      const ok = await publish(dev.url, { topic: 'demo/x', data: 1 }, bearer(body.token));
      expect(ok.status).toBe(202);
      expect((await publish(dev.url, { topic: 'other', data: 1 }, bearer(body.token))).status).toBe(
        403,
      );
      expect(
        (await attemptStream(dev.url, '/events?topic=chat/room', bearer(body.token))).status,
      ).toBe(200);
      // a token for the test secret is not valid for the ephemeral one
      const foreign = hs256(claims({ subscribe: ['**'] }));
      expect((await attemptStream(dev.url, '/events?topic=demo', bearer(foreign))).status).toBe(
        401,
      );
    });

    it('should issue subscriber tokens that cannot publish, and refuse bad parameters', async () => {
      const res = await fetch(`${dev.url}/dev/token`);
      const { token } = (await res.json()) as { token: string };
      expect((await publish(dev.url, { topic: 'demo', data: 1 }, bearer(token))).status).toBe(403);
      expect(
        (await attemptStream(dev.url, '/events?topic=anything/**', bearer(token))).status,
      ).toBe(200);
      for (const q of ['role=root', 'ttl=1', 'ttl=abc', 'topics=a//b']) {
        expect((await fetch(`${dev.url}/dev/token?${q}`)).status, q).toBe(400);
      }
    });

    it('should not serve /dev/token when a key is configured', async () => {
      expect((await fetch(`${prod.url}/dev/token`)).status).toBe(404);
    });
  });

  describe('startup checks (spawned, built dist/)', () => {
    it('should refuse to start in production without a key, with a short secret or a bad PEM', async () => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const [missing, short, badPem, confused] = await Promise.all([
        bootFailure({ NODE_ENV: 'production' }),
        bootFailure({ NODE_ENV: 'production', JWT_SECRET: 'too-short-secret' }),
        bootFailure({
          NODE_ENV: 'production',
          JWT_PUBLIC_KEY: 'not a pem',
          JWT_ALGORITHMS: 'RS256',
        }),
        bootFailure({ NODE_ENV: 'production', JWT_PUBLIC_KEY: pem, JWT_ALGORITHMS: 'HS256,RS256' }),
      ]);
      expect(missing.code).not.toBe(0);
      expect(missing.out).toMatch(/JWT_SECRET/);
      expect(short.code).not.toBe(0);
      expect(short.out).toMatch(/JWT_SECRET: must be at least 32 bytes/);
      expect(short.out).not.toContain('too-short-secret');
      expect(badPem.code).not.toBe(0);
      expect(badPem.out).toMatch(/JWT_PUBLIC_KEY/);
      expect(confused.code).not.toBe(0);
      expect(confused.out).toMatch(/JWT_ALGORITHMS: HS256, RS256 cannot verify/);
    });

    it('should log one subscriber and one publisher token at startup in development', async () => {
      const dev = await spawnGateway({ NODE_ENV: 'development', JWT_SECRET: '' });
      try {
        // The printed tokens are usable as they are (not redacted like tokens in log lines).
        const sub = /DEV-ONLY subscriber token[^:]*: (\S+)/.exec(dev.output())?.[1];
        const pub = /DEV-ONLY publisher token[^:]*: (\S+)/.exec(dev.output())?.[1];
        expect(sub).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
        expect(pub).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
        const stream = await fetch(`${dev.url}/events?topic=dev/x`, {
          headers: { Accept: 'text/event-stream', Authorization: `Bearer ${sub}` },
        });
        expect(stream.status).toBe(200);
        await stream.body?.cancel();
        const published = await fetch(`${dev.url}/events`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${pub}` },
          body: JSON.stringify({ topic: 'dev/x', data: 1 }),
        });
        expect(published.status).toBe(202);
      } finally {
        dev.kill();
        await dev.exited;
      }
    });

    it('should never write a request token to stdout or stderr', async () => {
      const gw = await spawnGateway({ LOG_LEVEL: 'trace', ANONYMOUS_TOPICS: '' });
      const tokens: string[] = [];
      const mint = (extra = {}) => {
        const t = hs256(claims({ subscribe: ['log/**'], publish: ['log/**'] }, extra));
        tokens.push(t);
        return t;
      };
      try {
        const s = await openStream(gw.url, `/events?topic=log/a&access_token=${mint()}`);
        await publish(gw.url, { topic: 'log/a', data: { note: 'hello' } }, bearer(mint()));
        await s.waitForEvents(1);
        await s.close();
        await attemptStream(gw.url, `/events?topic=log/a&access_token=${mint({ exp: 1 })}`);
        await attemptStream(gw.url, '/events?topic=log/a', { Cookie: `herald_token=${mint()}` });
        await attemptStream(gw.url, '/events?topic=nope', bearer(mint()));
        await publish(gw.url, { topic: 'elsewhere', data: 1 }, bearer(mint()));
        const tampered = `${mint().slice(0, -3)}abc`;
        tokens.push(tampered);
        await attemptStream(gw.url, `/events?topic=log/a&access_token=${tampered}`);
        await publish(gw.url, '{not json', bearer(mint()));
        await sleep(200);
      } finally {
        gw.kill();
        await gw.exited;
      }
      const out = gw.output();
      expect(out).toMatch(/listening on/);
      for (const token of tokens) {
        expect(out).not.toContain(token);
        expect(out).not.toContain(token.split('.')[2]);
      }
      expect(out).not.toContain(TEST_JWT_SECRET);
    });
  });
});

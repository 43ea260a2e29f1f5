import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RouteAccessAuditor } from '@herald/auth';
import { PublishService } from '@herald/publish';
import { openStream, type SseStream } from '../../test/support/sse-client';
import { TEST_JWT_SECRET, bearer, claims, hs256 } from '../../test/support/tokens';
import { sleep } from '../../test/support/wait';
import { OrdersFeedModule } from './orders-feed.module';

/** A subscriber token for the test secret with these `subscribe` grants. */
const subscriber = (grants: string[], extra: Record<string, unknown> = {}) =>
  hs256(claims({ subscribe: grants }, extra));

describe('OrdersFeedController', () => {
  let app: INestApplication;
  let url: string;
  const streams: SseStream[] = [];
  const ordersToken = subscriber(['orders/*']);

  beforeAll(async () => {
    app = await NestFactory.create(
      OrdersFeedModule.forRoot(
        { driver: 'memory', historySize: 100, historyTtlMs: 60_000 },
        {
          key: { driver: 'secret', secret: TEST_JWT_SECRET },
          algorithms: ['HS256'],
          permissionsClaim: 'herald',
          cookieName: 'herald_token',
          queryToken: true,
          anonymousTopics: ['orders/public'],
          corsOrigins: [],
        },
      ),
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    const server = app.getHttpServer() as Server;
    const { port } = server.address() as AddressInfo;
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    await app.close();
  });
  const open = async (path: string, headers?: Record<string, string>) => {
    const s = await openStream(url, path, { headers });
    streams.push(s);
    return s;
  };
  const publish = async (id: string, n: number) =>
    (
      await app
        .get(PublishService)
        .publish({ topic: `orders/${id}`, type: 'order.updated', data: { n, password: 'x' } })
    ).ids[0];

  it('should stream Herald events with ids, types and redacted data when subscribed', async () => {
    const s = await open('/orders/42/feed', bearer(ordersToken));
    expect(s.status).toBe(200);
    await sleep(50);
    const ids = [await publish('42', 1), await publish('7', 2), await publish('42', 3)];
    await s.waitForEvents(2);
    expect(s.events.map((e) => [e.id, e.event])).toEqual([
      [ids[0], 'order.updated'],
      [ids[2], 'order.updated'],
    ]);
    expect(JSON.parse(s.events[0].data)).toEqual({ n: 1, password: '[REDACTED]' });
  });

  it('should resume after Last-Event-ID when the client reconnects', async () => {
    const first = await publish('9', 1);
    const rest = [await publish('9', 2), await publish('9', 3)];
    const s = await open('/orders/9/feed?access_token=' + ordersToken, { 'Last-Event-ID': first });
    await s.waitForEvents(2);
    expect(s.events.map((e) => e.id)).toEqual(rest);
  });

  it('should answer 400 when the Last-Event-ID is malformed', async () => {
    const res = await fetch(`${url}/orders/9/feed`, {
      headers: {
        Accept: 'text/event-stream',
        'Last-Event-ID': 'not a cursor',
        ...bearer(ordersToken),
      },
    });
    expect(res.status).toBe(400);
    await res.body?.cancel();
  });

  it('should answer 401 with a Bearer challenge when no token is presented', async () => {
    const res = await fetch(`${url}/orders/42/feed`, { headers: { Accept: 'text/event-stream' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await res.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
  });

  it('should answer 401 when the token is forged', async () => {
    const forged = hs256(claims({ subscribe: ['**'] }), 'x'.repeat(32));
    const res = await fetch(`${url}/orders/42/feed`, {
      headers: { Accept: 'text/event-stream', ...bearer(forged) },
    });
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });

  it('should answer 403 when the token does not grant the order topic', async () => {
    const res = await fetch(`${url}/orders/42/feed`, {
      headers: { Accept: 'text/event-stream', ...bearer(subscriber(['orders/7'])) },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ statusCode: 403, error: 'Forbidden' });
  });

  it('should stream without a token when the topic is in the anonymous topics', async () => {
    const s = await open('/orders/public/feed');
    expect(s.status).toBe(200);
    await sleep(50);
    const id = await publish('public', 1);
    await s.waitForEvents(1);
    expect(s.events[0].id).toBe(id);
  });

  it('should end the stream when the token expires', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const s = await open('/orders/42/feed', bearer(subscriber(['orders/42'], { exp })));
    expect(s.status).toBe(200);
    await s.waitForEnd(10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
  });

  it('should list the feed route as guarded when the route audit runs', () => {
    const routes = app.get(RouteAccessAuditor).routes();
    expect(routes).toContainEqual(
      expect.objectContaining({ method: 'GET', path: '/orders/:id/feed', access: 'guarded' }),
    );
  });
});

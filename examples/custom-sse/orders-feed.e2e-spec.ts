import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublishService } from '@herald/publish';
import { openStream, type SseStream } from '../../test/support/sse-client';
import { sleep } from '../../test/support/wait';
import { OrdersFeedModule } from './orders-feed.module';

describe('OrdersFeedController', () => {
  let app: INestApplication;
  let url: string;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    app = await NestFactory.create(
      OrdersFeedModule.forRoot({ driver: 'memory', historySize: 100, historyTtlMs: 60_000 }),
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
    const s = await open('/orders/42/feed');
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
    const s = await open('/orders/9/feed', { 'Last-Event-ID': first });
    await s.waitForEvents(2);
    expect(s.events.map((e) => e.id)).toEqual(rest);
  });

  it('should answer 400 when the Last-Event-ID is malformed', async () => {
    const res = await fetch(`${url}/orders/9/feed`, {
      headers: { Accept: 'text/event-stream', 'Last-Event-ID': 'not a cursor' },
    });
    expect(res.status).toBe(400);
    await res.body?.cancel();
  });
});

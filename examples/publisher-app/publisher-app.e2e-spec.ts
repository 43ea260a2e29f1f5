import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../../test/support/gateway';
import {
  deleteKeys,
  redisUrlForTests,
  requireRedis,
  uniqueKeyPrefix,
} from '../../test/support/redis';
import { openStream, type SseStream } from '../../test/support/sse-client';
import { sleep, waitFor } from '../../test/support/wait';
import { OrderEvents } from './order-events.service';
import { PublisherAppModule } from './publisher-app.module';

describe('PublisherAppModule', () => {
  requireRedis();
  const prefix = uniqueKeyPrefix('example');
  let herald: Gateway | undefined;
  let app: INestApplicationContext | undefined;
  let stream: SseStream | undefined;

  afterAll(async () => {
    await stream?.close();
    await app?.close();
    await herald?.app.close();
    await deleteKeys(prefix);
  });

  it('should reach Herald subscribers when another Nest app publishes through Redis', async () => {
    herald = await startTestGateway({
      BROKER: 'redis',
      REDIS_URL: redisUrlForTests(),
      REDIS_KEY_PREFIX: prefix,
      INGEST_STREAM: `${prefix}ingest`,
    });
    app = await NestFactory.createApplicationContext(
      PublisherAppModule.forRoot({
        redisUrl: redisUrlForTests(),
        keyPrefix: prefix,
        historySize: herald.config.HISTORY_SIZE,
        historyTtlMs: herald.config.HISTORY_TTL_S * 1000,
        redactKeys: herald.config.REDACT_KEYS,
        maxEventBytes: herald.config.MAX_EVENT_BYTES,
      }),
      { logger: false },
    );
    const orders = app.get(OrderEvents);
    // The publisher's broker connects asynchronously: wait until a publish goes through (and
    // fail here, naming the cause, if it never does).
    await waitFor(
      () =>
        orders.updated('warmup', null).then(
          () => true,
          () => false,
        ),
      "the publisher app's first publish",
      5000,
      50,
    );
    stream = await openStream(herald.url, '/events?topic=orders/42');
    await sleep(200);
    const id = await orders.updated('42', { status: 'shipped', password: 'hunter2' });
    const [event] = await stream.waitForEvents(1);
    expect(event).toMatchObject({ id, event: 'order.updated' });
    expect(JSON.parse(event.data)).toEqual({ status: 'shipped', password: '[REDACTED]' });
  });
});

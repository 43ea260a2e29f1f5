import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { OrderEvents } from './order-events.service';
import { PublisherAppModule } from './publisher-app.module';

/** Run with a built Herald on the same Redis: publishes one event and exits. */
async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(
    PublisherAppModule.forRoot({
      redisUrl: 'redis://127.0.0.1:6379',
      historySize: 1000,
      historyTtlMs: 3_600_000,
      redactKeys: ['password', 'secret', 'token'],
      maxEventBytes: 65_536,
    }),
  );
  const id = await app.get(OrderEvents).updated('42', { status: 'shipped' });
  process.stdout.write(`published ${id}\n`);
  await app.close();
}

void main();

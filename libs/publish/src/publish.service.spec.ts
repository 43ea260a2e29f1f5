import { afterEach, describe, expect, it } from 'vitest';
import {
  BrokerError,
  BrokerErrorCode,
  type BrokerMessage,
  type PublishResult,
} from '@herald/broker';
import { InMemoryBroker } from '@herald/broker/testing';
import { parseTopicFilter } from '@herald/topics';
import { PublishError, PublishErrorCode } from './publish.errors';
import { PublishObserver, type PublishObservation } from './publish.observer';
import type { PublishContext } from './publish.service';
import { PublishService } from './publish.service';

/** Records every observed publish. */
class RecordingObserver extends PublishObserver {
  readonly calls: { succeeded?: number; failed?: unknown }[] = [];

  begin(): PublishObservation {
    const call: { succeeded?: number; failed?: unknown } = {};
    this.calls.push(call);
    return {
      succeeded: (events: number, _result: PublishResult) => (call.succeeded = events),
      failed: (error: unknown) => (call.failed = error),
    };
  }
}

describe('PublishService', () => {
  const brokers: InMemoryBroker[] = [];
  afterEach(async () => {
    for (const b of brokers.splice(0)) await b.close();
  });

  function setup(options: { maxEventBytes?: number; maxBatchSize?: number } = {}) {
    const broker = new InMemoryBroker({ historySize: 100, historyTtlMs: 60_000 });
    brokers.push(broker);
    const observer = new RecordingObserver();
    const service = new PublishService(
      broker,
      {
        maxEventBytes: options.maxEventBytes ?? 1024,
        redactKeys: ['password'],
        maxEventDepth: 4,
        maxBatchSize: options.maxBatchSize,
      },
      observer,
    );
    const received: BrokerMessage[] = [];
    const subscription = broker
      .subscribe([parseTopicFilter('**')], {})
      .subscribe((m) => received.push(m));
    return { broker, observer, service, received, stop: () => subscription.unsubscribe() };
  }

  it('should publish one event with its id and default type when the body is valid', async () => {
    const { service, received, observer, stop } = setup();
    const outcome = await service.publish({ topic: 'orders/1', data: { n: 1 } });
    expect(outcome.batch).toBe(false);
    expect(outcome.duplicate).toBe(false);
    expect(outcome.ids).toHaveLength(1);
    expect(received).toMatchObject([
      { kind: 'event', id: outcome.ids[0], topic: 'orders/1', type: 'message' },
    ]);
    expect(observer.calls).toEqual([{ succeeded: 1 }]);
    stop();
  });

  it('should redact configured keys before publishing when the data holds them', async () => {
    const { service, received, stop } = setup();
    await service.publish({ topic: 'a', type: 't', data: { user: 'x', Password: 'hunter2' } });
    const event = received[0] as { data: string };
    expect(event.data).not.toContain('hunter2');
    expect(JSON.parse(event.data)).toMatchObject({ user: 'x' });
    stop();
  });

  it('should publish nothing of a batch when one event is invalid', async () => {
    const { service, received, observer, stop } = setup();
    await expect(
      service.publish({
        events: [
          { topic: 'ok', data: 1 },
          { topic: 'bad/+', data: 2 },
        ],
      }),
    ).rejects.toMatchObject({ code: PublishErrorCode.InvalidTopic });
    expect(received).toEqual([]);
    expect(observer.calls[0].failed).toBeInstanceOf(PublishError);
    stop();
  });

  it('should refuse an event over maxEventBytes with too-large when data is big', async () => {
    const { service } = setup({ maxEventBytes: 64 });
    await expect(service.publish({ topic: 'a', data: 'x'.repeat(100) })).rejects.toMatchObject({
      code: PublishErrorCode.TooLarge,
    });
  });

  it('should refuse data nested deeper than maxEventDepth with too-deep', async () => {
    const { service } = setup();
    await expect(
      service.publish({ topic: 'a', data: { a: { b: { c: { d: { e: 1 } } } } } }),
    ).rejects.toMatchObject({ code: PublishErrorCode.TooDeep });
  });

  it('should refuse unexpected fields, reserved types and oversized batches', async () => {
    const { service } = setup({ maxBatchSize: 2 });
    await expect(service.publish({ topic: 'a', data: 1, extra: true })).rejects.toMatchObject({
      code: PublishErrorCode.InvalidBody,
    });
    await expect(
      service.publish({ topic: 'a', type: 'herald.reset', data: 1 }),
    ).rejects.toMatchObject({ code: PublishErrorCode.ReservedType });
    const events = [1, 2, 3].map((n) => ({ topic: 'a', data: n }));
    await expect(service.publish({ events })).rejects.toMatchObject({
      code: PublishErrorCode.InvalidBody,
    });
  });

  it('should publish nothing when authorize or admit refuses', async () => {
    const { service, received, stop } = setup();
    const refuse = new Error('no grant');
    const authorize: PublishContext['authorize'] = (topics) => {
      expect(topics).toEqual(['secret/x']);
      throw refuse;
    };
    await expect(service.publish({ topic: 'secret/x', data: 1 }, { authorize })).rejects.toBe(
      refuse,
    );
    await expect(
      service.publish({ topic: 'a', data: 1 }, { admit: () => Promise.reject(refuse) }),
    ).rejects.toBe(refuse);
    expect(received).toEqual([]);
    stop();
  });

  it('should answer a repeated idempotency key with the same ids as a duplicate', async () => {
    const { service, received, stop } = setup();
    const context = { idempotencyKey: 'k-1', scope: { namespace: 'sub', owner: 'alice' } } as const;
    const first = await service.publish({ topic: 'a', data: 1 }, context);
    const again = await service.publish({ topic: 'a', data: 1 }, context);
    expect(again).toEqual({ ids: first.ids, batch: false, duplicate: true });
    expect(received).toHaveLength(1);
    stop();
  });

  it('should refuse the same key with another body as an idempotency conflict', async () => {
    const { service } = setup();
    const context = { idempotencyKey: 'k-2' };
    await service.publish({ topic: 'a', data: 1 }, context);
    const refused = service.publish({ topic: 'a', data: 2 }, context);
    await expect(refused).rejects.toBeInstanceOf(BrokerError);
    await expect(refused).rejects.toMatchObject({ code: BrokerErrorCode.IdempotencyConflict });
  });

  it('should refuse a malformed idempotency key before publishing', async () => {
    const { service, received, stop } = setup();
    await expect(
      service.publish({ topic: 'a', data: 1 }, { idempotencyKey: 'has space' }),
    ).rejects.toMatchObject({ code: PublishErrorCode.InvalidIdempotencyKey });
    expect(received).toEqual([]);
    stop();
  });
});

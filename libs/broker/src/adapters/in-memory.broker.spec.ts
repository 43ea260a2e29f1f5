import { describe, expect, it } from 'vitest';
import { describeBrokerContract } from '@herald/broker/testing';
import { type BrokerMessage } from '@herald/broker';
import { InMemoryBroker } from './in-memory.broker';
import { parseTopicFilter } from '@herald/topics';

describeBrokerContract('in-memory', (options) => Promise.resolve(new InMemoryBroker(options)));

describe('InMemoryBroker', () => {
  const make = () => new InMemoryBroker({ historySize: 100, historyTtlMs: 60_000 });
  const sink = () => {
    const got: BrokerMessage[] = [];
    const errors: unknown[] = [];
    return {
      got,
      errors,
      next: (m: BrokerMessage) => got.push(m),
      error: (e: unknown) => errors.push(e),
      complete: () => undefined,
    };
  };
  const ev = (topic: string, n: number) => ({ topic, type: 'message', data: String(n) });

  it('should deliver through attach the same events, in order, as subscribe', async () => {
    const broker = make();
    const filters = [parseTopicFilter('a/*'), parseTopicFilter('a/**')];
    const s = sink();
    const viaObservable: BrokerMessage[] = [];
    const attachment = broker.attach(filters, {}, s);
    const subscription = broker.subscribe(filters).subscribe((m) => viaObservable.push(m));
    await broker.publish([ev('a/1', 1), ev('b/1', 2), ev('a/2/3', 3)]);
    expect(s.got.map((m) => (m.kind === 'event' ? m.data : m.kind))).toEqual(['1', '3']);
    expect(s.got).toEqual(viaObservable);
    expect(s.got[0]).toBe(viaObservable[0]);
    attachment.unsubscribe();
    subscription.unsubscribe();
    await broker.close();
  });

  it('should replay after a cursor and free the subscription on unsubscribe when attached', async () => {
    const broker = make();
    const { ids } = await broker.publish([ev('t', 1), ev('t', 2), ev('t', 3)]);
    const s = sink();
    const attachment = broker.attach([parseTopicFilter('t')], { cursor: ids[0] }, s);
    expect(s.got.map((m) => (m.kind === 'event' ? m.id : m.kind))).toEqual(ids.slice(1));
    expect(broker.stats().subscriptions).toBe(1);
    attachment.unsubscribe();
    attachment.unsubscribe();
    expect(broker.stats().subscriptions).toBe(0);
    await broker.publish([ev('t', 4)]);
    expect(s.got).toHaveLength(2);
    await broker.close();
  });

  it('should report a malformed cursor to the sink error when attached', async () => {
    const broker = make();
    const s = sink();
    broker.attach([parseTopicFilter('t')], { cursor: 'nope' }, s);
    expect(s.errors).toHaveLength(1);
    expect(broker.stats().subscriptions).toBe(0);
    await broker.close();
  });

  it('should honour every key for the whole TTL and refuse new keys past maxIdempotencyKeys', async () => {
    const broker = new InMemoryBroker({
      historySize: 100,
      historyTtlMs: 60_000,
      maxIdempotencyKeys: 3,
    });
    const key = (k: string) => ({ scope: { namespace: 'sub' as const, owner: 'u' }, key: k });
    const first = [];
    for (const k of ['a', 'b', 'c']) {
      first.push(await broker.publish([ev('i', 1)], { idempotencyKey: key(k), fingerprint: k }));
    }
    const refused = await broker
      .publish([ev('i', 2)], { idempotencyKey: key('d'), fingerprint: 'd' })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refused).toMatchObject({ code: 'idempotency-capacity' });
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(59_000);
    // Nothing was published by the refused call, and the first key is still honoured.
    expect(broker.nowCursor()).toBe(first[2].ids[0]);
    const again = await broker.publish([ev('i', 1)], {
      idempotencyKey: key('a'),
      fingerprint: 'a',
    });
    expect(again).toEqual({ ids: first[0].ids, duplicate: true });
    // Publishes without a key are not limited.
    expect((await broker.publish([ev('i', 3)])).duplicate).toBe(false);
    await broker.close();
  });

  it('should purge expired keys so that the bound counts only live keys', async () => {
    const broker = new InMemoryBroker({
      historySize: 100,
      historyTtlMs: 300,
      maxIdempotencyKeys: 2,
    });
    const key = (k: string) => ({ scope: { namespace: 'sub' as const, owner: 'u' }, key: k });
    await broker.publish([ev('p', 1)], { idempotencyKey: key('a'), fingerprint: 'a' });
    await broker.publish([ev('p', 2)], { idempotencyKey: key('b'), fingerprint: 'b' });
    await expect(
      broker.publish([ev('p', 3)], { idempotencyKey: key('c'), fingerprint: 'c' }),
    ).rejects.toMatchObject({ code: 'idempotency-capacity' });
    await new Promise((r) => setTimeout(r, 400));
    const c = await broker.publish([ev('p', 3)], { idempotencyKey: key('c'), fingerprint: 'c' });
    const d = await broker.publish([ev('p', 4)], { idempotencyKey: key('d'), fingerprint: 'd' });
    expect([c.duplicate, d.duplicate]).toEqual([false, false]);
    await broker.close();
  });
});

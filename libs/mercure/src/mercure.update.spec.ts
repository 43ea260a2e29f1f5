import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { BrokerEvent } from '@herald/broker';
import {
  deliveryOf,
  encodeUpdate,
  frameUpdate,
  MERCURE_EVENT_TYPE,
  MERCURE_TOPIC,
} from './mercure.update';

describe('Mercure deliveries', () => {
  const brokerEvent = (i: number, data: string): BrokerEvent => ({
    kind: 'event',
    id: `5-${i}`,
    topic: MERCURE_TOPIC,
    type: MERCURE_EVENT_TYPE,
    data: encodeUpdate({ topics: ['https://x/t'], data, private: false, id: `urn:${i}` }),
    publishedAt: 0,
  });

  it('decodes and frames an update once per broker event', () => {
    const e = brokerEvent(1, 'hello\nworld');
    const d = deliveryOf(e);
    expect(d?.cursor).toBe('5-1');
    expect(deliveryOf(e)).toBe(d);
    expect(d?.update.data).toBe('hello\nworld');
  });

  it('keeps about one copy of each small frame alive for an update held in history', () => {
    // Under 4 KiB, Buffers are slices of Node's shared 8 KiB pool: a transient frame made next to
    // its retained chunk keeps its share of the slab alive with it.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const kept: BrokerEvent[] = [];
    const payload = 'x'.repeat(1_000);
    const first = deliveryOf(brokerEvent(0, payload));
    // About the same for every update (ids differ by a few bytes).
    const bytes = 5_000 * (first ? frameUpdate(first.update).length : 0);
    gc();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 5_000; i++) {
      const e = brokerEvent(i, payload);
      if (deliveryOf(e) === undefined) throw new Error('not an update');
      kept.push(e);
    }
    gc();
    gc();
    const retained = process.memoryUsage().arrayBuffers - before;
    expect(kept.every((e) => deliveryOf(e) !== undefined)).toBe(true);
    expect(retained / bytes).toBeLessThan(1.5);
  });
});

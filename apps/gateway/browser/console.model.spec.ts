import { describe, expect, it } from 'vitest';
import {
  ConsoleHistory,
  counterIncrease,
  histogramQuantile,
  type InstanceFigures,
} from './console.model';

const BOUNDS = [0.001, 0.01, 0.1];

const inst = (instance: string, over: Partial<InstanceFigures> = {}): InstanceFigures => ({
  instance,
  at: 0,
  startedAt: 1,
  connections: 0,
  published: 0,
  delivered: 0,
  slowConsumerCuts: 0,
  shed: {},
  latency: { buckets: [0, 0, 0, 0], count: 0 },
  ...over,
});

describe('histogramQuantile', () => {
  it('should interpolate inside the bucket holding the rank, like histogram_quantile', () => {
    // 10 in (0, 1 ms], 10 in (1, 10 ms]: the median is the top of the first bucket.
    expect(histogramQuantile(0.5, BOUNDS, [10, 20, 20, 20])).toBeCloseTo(0.001);
    expect(histogramQuantile(0.75, BOUNDS, [10, 20, 20, 20])).toBeCloseTo(0.0055);
    expect(histogramQuantile(0.25, BOUNDS, [10, 20, 20, 20])).toBeCloseTo(0.0005);
  });

  it('should answer the highest finite bound in the +Inf bucket and null when empty', () => {
    expect(histogramQuantile(0.99, BOUNDS, [0, 0, 0, 5])).toBe(0.1);
    expect(histogramQuantile(0.5, BOUNDS, [0, 0, 0, 0])).toBeNull();
  });
});

describe('counterIncrease', () => {
  it('should count from zero after a restart', () => {
    expect(counterIncrease(15, 10)).toBe(5);
    expect(counterIncrease(3, 10)).toBe(3);
    expect(counterIncrease(12, 10, true)).toBe(12);
  });
});

describe('ConsoleHistory', () => {
  it('should turn cumulative counters of several instances into per-second rates', () => {
    const h = new ConsoleHistory();
    const first = h.add({
      at: 10_000,
      latencyBuckets: BOUNDS,
      instances: [
        inst('a', { at: 10_000, connections: 2, published: 100, delivered: 200 }),
        inst('b', { at: 10_000, connections: 1, published: 50 }),
      ],
    });
    expect(first.publishRate).toBeNull();
    expect(first.p50Ms).toBeNull();
    expect(first.streams).toEqual({ a: 2, b: 1 });
    const second = h.add({
      at: 12_000,
      latencyBuckets: BOUNDS,
      instances: [
        inst('a', {
          at: 12_000,
          connections: 3,
          published: 120,
          delivered: 260,
          shed: { capacity: 4 },
          slowConsumerCuts: 2,
          latency: { buckets: [4, 4, 4, 4], count: 4 },
        }),
        inst('b', { at: 11_000, connections: 1, published: 60 }),
      ],
    });
    expect(second.publishRate).toBeCloseTo(20 / 2 + 10 / 1);
    expect(second.deliveryRate).toBeCloseTo(30);
    expect(second.shedRate).toBeCloseTo(2);
    expect(second.slowRate).toBeCloseTo(1);
    expect(second.p50Ms).toBeCloseTo(0.5);
    expect(second.t).toBe(12);
    expect(h.instances()).toEqual(['a', 'b']);
    expect(h.series((p) => p.publishRate)).toEqual([
      [10, 12],
      [null, second.publishRate],
    ]);
  });

  it('should treat a new startedAt as a restart and drop points older than the window', () => {
    const h = new ConsoleHistory(5_000);
    h.add({ at: 0, latencyBuckets: BOUNDS, instances: [inst('a', { at: 0, published: 500 })] });
    const p = h.add({
      at: 2_000,
      latencyBuckets: BOUNDS,
      instances: [inst('a', { at: 2_000, startedAt: 2, published: 10 })],
    });
    expect(p.publishRate).toBeCloseTo(5);
    h.add({ at: 8_000, latencyBuckets: BOUNDS, instances: [inst('a', { at: 8_000 })] });
    expect(h.points.map((x) => x.t)).toEqual([8]);
  });
});

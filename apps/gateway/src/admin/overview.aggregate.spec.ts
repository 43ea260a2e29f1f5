import { describe, expect, it } from 'vitest';
import {
  aggregateOverview,
  parseTopicsLimit,
  topTopics,
  type InstanceOverview,
} from './overview.aggregate';

const figures = (instance: string, over: Partial<InstanceOverview> = {}): InstanceOverview => ({
  instance,
  at: 1000,
  startedAt: 1,
  ready: true,
  draining: false,
  broker: { driver: 'redis', status: 'up' },
  eventLoopDelayMs: 3,
  connections: 0,
  published: 0,
  delivered: 0,
  slowConsumerCuts: 0,
  shed: {},
  latency: { buckets: [0, 0], count: 0, sum: 0 },
  topics: { distinct: 0, top: [] },
  ...over,
});

const options = { at: 5000, live: [] as string[], topics: 20, latencyBuckets: [0.1] };

describe('topTopics', () => {
  it('should count each stream once per topic and rank by count then name', () => {
    const result = topTopics([['a', 'b'], ['b', 'b'], ['c'], ['b', 'a'], ['z']], 3);
    expect(result.distinct).toBe(4);
    expect(result.top).toEqual([
      { topic: 'b', subscribers: 3 },
      { topic: 'a', subscribers: 2 },
      { topic: 'c', subscribers: 1 },
    ]);
  });

  it('should return nothing when the limit is 0', () => {
    expect(topTopics([['a']], 0)).toEqual({ distinct: 1, top: [] });
  });
});

describe('aggregateOverview', () => {
  it('should sum the counters of every instance and sort instances by id', () => {
    const o = aggregateOverview(
      [
        {
          instance: 'b',
          answer: figures('b', {
            connections: 2,
            published: 10,
            delivered: 20,
            slowConsumerCuts: 1,
            shed: { capacity: 2, 'rate-limited': 1 },
            ready: false,
          }),
        },
        {
          instance: 'a',
          answer: figures('a', {
            connections: 3,
            published: 5,
            delivered: 7,
            shed: { draining: 4 },
          }),
        },
      ],
      { ...options, live: ['a', 'b'] },
    );
    expect(o.instances.map((i) => i.instance)).toEqual(['a', 'b']);
    expect(o.totals).toEqual({
      instances: 2,
      ready: 1,
      connections: 5,
      published: 15,
      delivered: 27,
      slowConsumerCuts: 1,
      shed: 7,
    });
    expect(o.missing).toEqual([]);
    expect(o.at).toBe(5000);
    expect(o.latencyBuckets).toEqual([0.1]);
  });

  it('should name live instances that did not answer', () => {
    const o = aggregateOverview([{ instance: 'a', answer: figures('a') }], {
      ...options,
      live: ['c', 'a', 'b', 'c'],
    });
    expect(o.missing).toEqual(['b', 'c']);
  });

  it('should trust the bus for the instance id over the answer body', () => {
    const o = aggregateOverview([{ instance: 'real', answer: figures('claimed') }], options);
    expect(o.instances[0].instance).toBe('real');
  });

  it('should merge top topics across instances, capped, exact when every list was whole', () => {
    const answers = [
      {
        instance: 'a',
        answer: figures('a', {
          topics: {
            distinct: 2,
            top: [
              { topic: 'x', subscribers: 5 },
              { topic: 'y', subscribers: 1 },
            ],
          },
        }),
      },
      {
        instance: 'b',
        answer: figures('b', {
          topics: {
            distinct: 2,
            top: [
              { topic: 'y', subscribers: 6 },
              { topic: 'z', subscribers: 2 },
            ],
          },
        }),
      },
    ];
    const o = aggregateOverview(answers, { ...options, topics: 2 });
    expect(o.topTopics).toEqual([
      { topic: 'y', subscribers: 7 },
      { topic: 'x', subscribers: 5 },
    ]);
    expect(o.topTopicsExact).toBe(true);
    const truncated = aggregateOverview(
      [{ instance: 'a', answer: figures('a', { topics: { distinct: 9, top: [] } }) }],
      options,
    );
    expect(truncated.topTopicsExact).toBe(false);
  });
});

describe('parseTopicsLimit', () => {
  it('should default to 20 and accept 0..100', () => {
    expect(parseTopicsLimit(undefined)).toBe(20);
    expect(parseTopicsLimit('0')).toBe(0);
    expect(parseTopicsLimit('100')).toBe(100);
  });

  it('should name the problem for anything else', () => {
    for (const bad of ['101', '-1', '1.5', 'abc', '', '1e2', ['1', '2'], '0x10']) {
      expect(parseTopicsLimit(bad), JSON.stringify(bad)).toBe(
        'topics must be an integer from 0 to 100',
      );
    }
  });
});

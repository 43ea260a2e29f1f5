import { describe, expect, it } from 'vitest';
import type { BrokerEvent } from '@herald/broker';
import type { SseConnection } from '@herald/streams';
import { HeraldMetrics, HeraldTracing } from '@herald/telemetry';
import { StreamsTelemetry } from './streams.telemetry';

const event = (publishedAt: number): BrokerEvent => ({
  kind: 'event',
  id: `m.x.${publishedAt}`,
  topic: 't',
  type: 'message',
  data: '1',
  publishedAt,
});
const connection = (connectedAt: number) => ({ connectedAt }) as unknown as SseConnection;

describe('StreamsTelemetry', () => {
  const setup = () => {
    const metrics = new HeraldMetrics({ defaultMetrics: false });
    const telemetry = new StreamsTelemetry(metrics, new HeraldTracing({ driver: 'off' }));
    const latencyCount = async () =>
      (await metrics.deliveryLatency.get()).values.find((v) => v.metricName?.endsWith('_count'))
        ?.value ?? 0;
    return { metrics, telemetry, latencyCount };
  };

  it('should observe latency once per event when a fan-out flushes it to many connections', async () => {
    const { metrics, telemetry, latencyCount } = setup();
    const e = event(1000);
    for (let i = 0; i < 100; i++) telemetry.flushed(connection(500), 1, e, 1010);
    telemetry.flushed(connection(500), 2, event(1005), 1012);
    expect(await latencyCount()).toBe(2);
    expect(metrics.deliveredPending).toBe(102);
  });

  it('should not take replayed events as latency samples when they predate the stream', async () => {
    const { telemetry, latencyCount } = setup();
    telemetry.flushed(connection(5000), 10, event(1000), 5010);
    expect(await latencyCount()).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { HeraldMetrics, statusClass } from './herald.metrics';

describe('HeraldMetrics', () => {
  it('should add pending deliveries to the counter when scraped', async () => {
    const metrics = new HeraldMetrics({ defaultMetrics: false, maxConnections: 5 });
    metrics.deliveredPending += 7;
    const text = await metrics.scrape();
    expect(text).toContain('herald_events_delivered_total 7');
    expect(text).toContain('herald_max_connections 5');
    expect(metrics.deliveredPending).toBe(0);
    expect(await metrics.scrape()).toContain('herald_events_delivered_total 7');
  });

  it('should report the broker probe when scraped', async () => {
    const metrics = new HeraldMetrics({ defaultMetrics: false });
    metrics.setBrokerProbe(() => Promise.resolve(false));
    expect(await metrics.scrape()).toContain('herald_broker_up 0');
  });

  it('should map statuses to classes', () => {
    expect([200, 308, 404, 503].map(statusClass)).toEqual(['2xx', '3xx', '4xx', '5xx']);
  });
});

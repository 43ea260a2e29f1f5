import { describe, expect, it } from 'vitest';
import { LimitsStats } from '@herald/limits';
import { HeraldMetrics } from '@herald/telemetry';
import { LimitsTelemetry } from './limits.telemetry';

describe('LimitsTelemetry', () => {
  it('should export fail-open checks by kind when the limits store fails', async () => {
    const stats = new LimitsStats();
    const metrics = new HeraldMetrics({ defaultMetrics: false });
    const telemetry = new LimitsTelemetry(stats, metrics);
    stats.recordFailOpen('rate');
    stats.recordFailOpen('rate');
    const text = await metrics.scrape();
    expect(text).toContain('herald_limits_fail_open_total{kind="rate"} 2');
    expect(text).toContain('herald_limits_fail_open_total{kind="caps"} 0');
    telemetry.onModuleDestroy();
    stats.recordFailOpen('caps');
    expect(await metrics.scrape()).toContain('herald_limits_fail_open_total{kind="caps"} 0');
  });
});

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { TELEMETRY_MODULE_OPTIONS } from './telemetry.module-definition';
import type { TelemetryModuleOptions } from './telemetry.options';

/**
 * Readiness of the event loop: `down` when its p99 delay over the last window is above
 * `eventLoopDelayThresholdMs`, so a saturated instance stops receiving new streams.
 */
@Injectable()
export class EventLoopHealthIndicator implements OnModuleDestroy {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private readonly thresholdMs: number;
  private lastP99Ms = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(TELEMETRY_MODULE_OPTIONS) options: TelemetryModuleOptions,
  ) {
    this.thresholdMs = options.eventLoopDelayThresholdMs;
    this.histogram.enable();
    // Rolling window: keep the last window's p99, then start a new one.
    this.timer = setInterval(() => this.roll(), options.eventLoopWindowMs ?? 5000);
    this.timer.unref();
  }

  /** `up` with the recent p99 delay, `down` when it is above the threshold. */
  check(key = 'eventLoop'): HealthIndicatorResult {
    const indicator = this.health.check(key);
    const p99Ms = Math.max(this.lastP99Ms, this.currentP99Ms());
    const data = { p99DelayMs: Math.round(p99Ms), thresholdMs: this.thresholdMs };
    return p99Ms > this.thresholdMs ? indicator.down(data) : indicator.up(data);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private currentP99Ms(): number {
    return this.histogram.count > 0 ? this.histogram.percentile(99) / 1e6 : 0;
  }

  private roll(): void {
    this.lastP99Ms = this.currentP99Ms();
    this.histogram.reset();
  }
}

import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { LimitsStats } from '@herald/limits';
import { HeraldMetrics } from '@herald/telemetry';

/** Exports limit checks that failed open (`LimitsStats`) as `herald_limits_fail_open_total{kind}`. */
@Injectable()
export class LimitsTelemetry implements OnModuleDestroy {
  private readonly subscription: Subscription;

  constructor(stats: LimitsStats, metrics: HeraldMetrics) {
    for (const kind of ['rate', 'caps'] as const) metrics.limitsFailOpen.inc({ kind }, 0);
    this.subscription = stats.failOpen$.subscribe((kind) => metrics.limitsFailOpen.inc({ kind }));
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }
}

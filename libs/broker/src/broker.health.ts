import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { Broker } from './broker.port';

/** Readiness of the broker: `up` when it answers a ping within `timeoutMs`. */
@Injectable()
export class BrokerHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly broker: Broker,
  ) {}

  async check(key = 'broker', timeoutMs = 1000): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.broker.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      return indicator.up({ ...this.broker.stats() });
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
    }
  }
}

import { Injectable } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';

/** Which limit failed open. */
export type FailOpenKind = 'rate' | 'caps';

/**
 * Counts limit checks that failed open because the shared store (Redis) errored, so telemetry
 * can export them: read {@link failOpenTotal} or subscribe to {@link failOpen$}.
 */
@Injectable()
export class LimitsStats {
  private readonly counts: Record<FailOpenKind, number> = { rate: 0, caps: 0 };
  private readonly events = new Subject<FailOpenKind>();

  /** Emits once per check that failed open. */
  readonly failOpen$: Observable<FailOpenKind> = this.events.asObservable();

  /** Checks that failed open so far, by kind, or in total. */
  failOpenTotal(kind?: FailOpenKind): number {
    return kind === undefined ? this.counts.rate + this.counts.caps : this.counts[kind];
  }

  /** Records one check that failed open. */
  recordFailOpen(kind: FailOpenKind): void {
    this.counts[kind]++;
    this.events.next(kind);
  }
}

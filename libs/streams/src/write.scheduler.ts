import { performance } from 'node:perf_hooks';

/** Something with queued output to flush. */
export interface Flushable {
  /** Writes what is queued; returns the bytes written (0 when nothing was). */
  flush(): number;
}

/** A monotonic clock in ms (`performance.now` by default; injectable for tests). */
export type MonotonicClock = () => number;

/**
 * Smoothed duty cycle (share of wall time spent in flush runs) at or above which the scheduler
 * counts as loaded and starts spacing runs out.
 */
export const LOADED_DUTY = 0.3;

/** Smoothed duty cycle under which a loaded scheduler counts as lightly loaded again. */
export const LIGHT_DUTY = 0.15;

/**
 * Under load, runs are spaced so that flushing takes about this share of the loop: the next run
 * starts no sooner than `lastRunCost / TARGET_DUTY` after the last one started (never later than
 * the linger ceiling), leaving the rest of the loop to publishes, connects and timers while
 * events accumulate, so each write carries several of them.
 */
export const TARGET_DUTY = 0.25;

/**
 * Average bytes per flush at or above which a run's writes count as coalesced already (tens of
 * events each: the per-write cost is amortized), so the next run does not wait even under load:
 * waiting would only delay a publisher that paces itself on deliveries.
 */
export const COALESCED_BYTES = 4096;

/** Time constant (ms) of the duty cycle's exponential smoothing. */
export const DUTY_TAU_MS = 250;

/**
 * Coalesces writes: a connection that queues output is flushed once per run, and a run writes
 * every connection queued since the last one, so many events become one socket write.
 *
 * Adaptive, on the smoothed duty cycle (the share of wall time spent in flush runs, decaying
 * with {@link DUTY_TAU_MS}): under light load (below {@link LOADED_DUTY}, and until it falls
 * back under {@link LIGHT_DUTY} once loaded) a run starts at the end of the tick the output was
 * queued in (`setImmediate`, no linger), bursts included. Under load the next run starts no
 * sooner than `lastRunCost / TARGET_DUTY` after the last run started, so each write carries
 * several events per connection and CPU is left for everything else (unless the last run's
 * writes averaged {@link COALESCED_BYTES} or more: they are coalesced already); `lingerMs`
 * (BATCH_LINGER_MS) is the ceiling of that spacing, and 0 turns it off (one run per tick
 * whatever the load).
 */
export class WriteScheduler {
  private dirty = new Set<Flushable>();
  private armed = false;
  private running = false;
  private runAt = 0;
  /** Monotonic start of the last run and its duration (ms). */
  private lastStart = 0;
  private lastCost = 0;
  /** Average bytes per flush of the last run. */
  private lastBytesPerFlush = 0;
  /** Exponentially decayed time in runs and wall time (ms), as of `sampledAt`. */
  private busy = 0;
  /** Starts as if a quiet {@link DUTY_TAU_MS} preceded: the first runs do not read as load. */
  private wall = DUTY_TAU_MS;
  private sampledAt: number;
  private loaded = false;

  constructor(
    private readonly lingerMs: number,
    private readonly clock: MonotonicClock = () => performance.now(),
  ) {
    this.sampledAt = clock();
  }

  /** The time to stamp a flush with: read once per flush run, the clock outside a run. */
  get now(): number {
    return this.running ? this.runAt : Date.now();
  }

  /** The smoothed duty cycle now (0..1): the share of recent wall time spent in flush runs. */
  get duty(): number {
    return this.dutyAt(this.clock());
  }

  /** The wait (ms) before the next run if one were armed now: 0 under light load. */
  get backoffMs(): number {
    return this.waitAt(this.clock());
  }

  schedule(target: Flushable): void {
    this.dirty.add(target);
    if (this.armed) return;
    this.armed = true;
    const wait = this.lingerMs > 0 ? this.waitAt(this.clock()) : 0;
    if (wait > 0) setTimeout(this.run, wait);
    else setImmediate(this.run);
  }

  private waitAt(now: number): number {
    if (this.lingerMs <= 0) return 0;
    const duty = this.dutyAt(now);
    if (this.loaded ? duty < LIGHT_DUTY : duty < LOADED_DUTY) {
      this.loaded = false;
      return 0;
    }
    this.loaded = true;
    if (this.lastBytesPerFlush >= COALESCED_BYTES) return 0;
    const spacing = Math.min(this.lingerMs, this.lastCost / TARGET_DUTY);
    const wait = Math.ceil(this.lastStart + spacing - now);
    return wait > 0 ? wait : 0;
  }

  private dutyAt(now: number): number {
    const idle = Math.max(0, now - this.sampledAt);
    const decay = Math.exp(-idle / DUTY_TAU_MS);
    const wall = this.wall * decay + idle;
    return wall > 0 ? (this.busy * decay) / wall : 0;
  }

  private readonly run = (): void => {
    this.armed = false;
    const batch = this.dirty;
    this.dirty = new Set();
    const start = this.clock();
    this.runAt = Date.now();
    this.running = true;
    let bytes = 0;
    try {
      for (const target of batch) {
        // One failing flush must not skip the rest of the run: their output stays queued, and
        // a queued connection is never scheduled again until it has been flushed.
        try {
          bytes += target.flush();
        } catch (err) {
          process.emitWarning(`stream flush failed: ${String(err)}`);
        }
      }
    } finally {
      this.running = false;
      const end = this.clock();
      const cost = Math.max(0, end - start);
      const elapsed = Math.max(0, end - this.sampledAt);
      const decay = Math.exp(-elapsed / DUTY_TAU_MS);
      this.busy = this.busy * decay + cost;
      this.wall = this.wall * decay + elapsed;
      this.sampledAt = end;
      this.lastStart = start;
      this.lastCost = cost;
      this.lastBytesPerFlush = batch.size > 0 ? bytes / batch.size : 0;
    }
  };
}

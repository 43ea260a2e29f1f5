/** Something with queued output to flush. */
export interface Flushable {
  flush(): void;
}

/**
 * How long, relative to the last flush run's own duration, the scheduler waits after that run
 * before the next one (bounded by the linger ceiling): flush runs then take at most about half
 * the event loop, and the events that arrive meanwhile share one write per connection.
 */
export const LOAD_BACKOFF = 1;

/**
 * Coalesces writes: a connection that queues output is flushed once per run, and a run writes
 * every connection queued since the last one, so many events become one socket write.
 *
 * Adaptive: under light load a run starts at the end of the tick the output was queued in
 * (`setImmediate`, no linger). Under load, when the previous run itself took `d` ms (thousands
 * of sockets written), the next run starts no sooner than `LOAD_BACKOFF * d` after it ended, so
 * each run carries several events per connection; `lingerMs` (BATCH_LINGER_MS) is the ceiling of
 * that wait, and 0 turns it off (one run per tick whatever the load).
 */
export class WriteScheduler {
  private dirty = new Set<Flushable>();
  private armed = false;
  private running = false;
  private runAt = 0;
  /** When the last run ended and how long it took (ms). */
  private lastEnd = 0;
  private lastCost = 0;

  constructor(private readonly lingerMs: number) {}

  /** The time to stamp a flush with: read once per flush run, the clock outside a run. */
  get now(): number {
    return this.running ? this.runAt : Date.now();
  }

  /** The wait (ms) before the next run if one were armed now: 0 under light load. */
  get backoffMs(): number {
    return Math.min(this.lingerMs, Math.ceil(this.lastCost * LOAD_BACKOFF));
  }

  schedule(target: Flushable): void {
    this.dirty.add(target);
    if (this.armed) return;
    this.armed = true;
    const backoff = this.backoffMs;
    const wait = backoff > 0 ? this.lastEnd + backoff - Date.now() : 0;
    if (wait > 0) setTimeout(this.run, wait);
    else setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.armed = false;
    const batch = this.dirty;
    this.dirty = new Set();
    const start = Date.now();
    this.runAt = start;
    this.running = true;
    try {
      for (const target of batch) target.flush();
    } finally {
      this.running = false;
      this.lastEnd = Date.now();
      this.lastCost = this.lastEnd - start;
    }
  };
}

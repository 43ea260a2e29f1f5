/** Something with queued output to flush. */
export interface Flushable {
  flush(): void;
}

/**
 * Coalesces writes: a connection that queues output is flushed once at the end of the tick
 * (`setImmediate`) or after `lingerMs`, so many events become one socket write.
 */
export class WriteScheduler {
  private dirty = new Set<Flushable>();
  private armed = false;
  private running = false;
  private runAt = 0;

  constructor(private readonly lingerMs: number) {}

  /** The time to stamp a flush with: read once per flush run, the clock outside a run. */
  get now(): number {
    return this.running ? this.runAt : Date.now();
  }

  schedule(target: Flushable): void {
    this.dirty.add(target);
    if (this.armed) return;
    this.armed = true;
    if (this.lingerMs > 0) setTimeout(this.run, this.lingerMs);
    else setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.armed = false;
    const batch = this.dirty;
    this.dirty = new Set();
    this.runAt = Date.now();
    this.running = true;
    try {
      for (const target of batch) target.flush();
    } finally {
      this.running = false;
    }
  };
}

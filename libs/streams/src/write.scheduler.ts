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
  /** Time of the current flush run (or of the last one): one clock read per batch. */
  now = Date.now();

  constructor(private readonly lingerMs: number) {}

  schedule(target: Flushable): void {
    this.dirty.add(target);
    if (this.armed) return;
    this.armed = true;
    if (this.lingerMs > 0) setTimeout(this.run, this.lingerMs);
    else setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.armed = false;
    this.now = Date.now();
    const batch = this.dirty;
    this.dirty = new Set();
    for (const target of batch) target.flush();
  };
}

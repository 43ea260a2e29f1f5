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
    const batch = this.dirty;
    this.dirty = new Set();
    for (const target of batch) target.flush();
  };
}

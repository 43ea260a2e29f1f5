/** Longest delay `setTimeout` honours (larger ones fire at once). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Runs `fire(item)` for each item at its due time (epoch ms) with one timer per distinct due
 * time rather than one per item. Token expiry has second resolution (JWT `exp`), so the streams
 * whose tokens expire in the same second share one timer; an idle stream holds a set entry, not
 * two timers and their closures. Any delay works (tokens may live longer than 24.8 days); a due
 * time already past fires on the next timer turn.
 */
export class DueTimers<T> {
  private readonly groups = new Map<number, { items: Set<T>; timer: NodeJS.Timeout }>();

  constructor(private readonly fire: (item: T, dueAt: number) => void) {}

  /** The number of distinct due times armed (one timer each). */
  get timers(): number {
    return this.groups.size;
  }

  add(dueAt: number, item: T): void {
    const group = this.groups.get(dueAt);
    if (group !== undefined) {
      group.items.add(item);
      return;
    }
    this.groups.set(dueAt, { items: new Set([item]), timer: this.arm(dueAt) });
  }

  delete(dueAt: number, item: T): void {
    const group = this.groups.get(dueAt);
    if (group === undefined || !group.items.delete(item) || group.items.size > 0) return;
    clearTimeout(group.timer);
    this.groups.delete(dueAt);
  }

  /** Cancels every timer (shutdown). */
  clear(): void {
    for (const group of this.groups.values()) clearTimeout(group.timer);
    this.groups.clear();
  }

  private arm(dueAt: number): NodeJS.Timeout {
    const remaining = dueAt - Date.now();
    const timer = setTimeout(
      () => {
        const group = this.groups.get(dueAt);
        if (group === undefined) return;
        if (dueAt - Date.now() > 0) {
          group.timer = this.arm(dueAt); // a delay past MAX_TIMEOUT_MS: wait again
          return;
        }
        this.groups.delete(dueAt);
        for (const item of group.items) {
          try {
            this.fire(item, dueAt);
          } catch (err) {
            process.emitWarning(`due timer failed: ${String(err)}`);
          }
        }
      },
      Math.max(0, Math.min(remaining, MAX_TIMEOUT_MS)),
    );
    timer.unref();
    return timer;
  }
}

import { describe, expect, it, vi } from 'vitest';
import { WriteScheduler } from './write.scheduler';

describe('WriteScheduler', () => {
  it('should give every flush of one run the same time when flushed by the scheduler', async () => {
    const scheduler = new WriteScheduler(0);
    const seen: number[] = [];
    const target = () => ({ flush: () => seen.push(scheduler.now) });
    let t = 1_000;
    // A clock that moves on every read: per-flush reads would all differ.
    const now = vi.spyOn(Date, 'now').mockImplementation(() => ++t);
    try {
      for (let i = 0; i < 3; i++) scheduler.schedule(target());
      await new Promise((r) => setImmediate(r));
      expect(seen).toHaveLength(3);
      expect(new Set(seen).size).toBe(1);
    } finally {
      now.mockRestore();
    }
  });

  it('should read the clock when asked outside a flush run', async () => {
    const scheduler = new WriteScheduler(0);
    scheduler.schedule({ flush: () => undefined });
    await new Promise((r) => setImmediate(r));
    const later = Date.now() + 60_000;
    const now = vi.spyOn(Date, 'now').mockReturnValue(later);
    try {
      expect(scheduler.now).toBe(later);
    } finally {
      now.mockRestore();
    }
  });
});

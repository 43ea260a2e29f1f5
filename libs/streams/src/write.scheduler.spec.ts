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

  it('should flush in the tick output was queued under light load, even with a linger ceiling', async () => {
    const scheduler = new WriteScheduler(50);
    let flushed = 0;
    scheduler.schedule({ flush: () => flushed++ });
    await new Promise((r) => setImmediate(r));
    expect(flushed).toBe(1);
    expect(scheduler.backoffMs).toBe(0);
  });

  it('should wait after a long run, bounded by the linger ceiling, so writes carry several events', async () => {
    const scheduler = new WriteScheduler(20);
    let t = 1_000;
    const now = vi.spyOn(Date, 'now').mockImplementation(() => t);
    try {
      // A run that takes 30 ms (thousands of sockets): the next waits, at most 20 ms.
      scheduler.schedule({ flush: () => (t += 30) });
      await new Promise((r) => setImmediate(r));
      expect(scheduler.backoffMs).toBe(20);
      let flushed = 0;
      const target = { flush: () => flushed++ };
      scheduler.schedule(target);
      scheduler.schedule(target);
      await new Promise((r) => setImmediate(r));
      expect(flushed).toBe(0);
      now.mockRestore();
      await new Promise((r) => setTimeout(r, 40));
      expect(flushed).toBe(1);
      // That run was short: the next goes out in its tick again.
      expect(scheduler.backoffMs).toBe(0);
    } finally {
      now.mockRestore();
    }
  });

  it('should never wait with BATCH_LINGER_MS=0, whatever the last run took', async () => {
    const scheduler = new WriteScheduler(0);
    let t = 1_000;
    const now = vi.spyOn(Date, 'now').mockImplementation(() => t);
    try {
      scheduler.schedule({ flush: () => (t += 500) });
      await new Promise((r) => setImmediate(r));
      let flushed = 0;
      scheduler.schedule({ flush: () => flushed++ });
      await new Promise((r) => setImmediate(r));
      expect(flushed).toBe(1);
    } finally {
      now.mockRestore();
    }
  });
});

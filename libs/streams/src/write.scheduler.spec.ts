import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  COALESCED_BYTES,
  LIGHT_DUTY,
  LOADED_DUTY,
  TARGET_DUTY,
  WriteScheduler,
} from './write.scheduler';

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
    scheduler.schedule({ flush: () => 0 });
    await new Promise((r) => setImmediate(r));
    const later = Date.now() + 60_000;
    const now = vi.spyOn(Date, 'now').mockReturnValue(later);
    try {
      expect(scheduler.now).toBe(later);
    } finally {
      now.mockRestore();
    }
  });

  /**
   * A scheduler on fake timers (its clock is the fake `Date.now`) and one connection whose flush
   * takes `costMs` of that clock and records when it ran and how many events it carried (each
   * `eventBytes` long).
   */
  function rig(lingerMs: number, costMs: number, eventBytes = 130) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
    const scheduler = new WriteScheduler(lingerMs, () => Date.now());
    const conn = {
      pending: 0,
      starts: [] as number[],
      carried: [] as number[],
      flush() {
        const bytes = conn.pending * eventBytes;
        conn.starts.push(Date.now());
        conn.carried.push(conn.pending);
        conn.pending = 0;
        vi.setSystemTime(Date.now() + costMs);
        return bytes;
      },
    };
    /** One event queued for the connection (as `SseConnection.send` does). */
    const queue = () => {
      conn.pending++;
      scheduler.schedule(conn);
    };
    return { scheduler, conn, queue };
  }

  afterEach(() => {
    vi.useRealTimers();
  });

  for (const [name, costMs, gapMs] of [
    ['1k subscribers x 20 events/s: a 6 ms run every 50 ms', 6, 44],
    ['20% of the loop in flush runs', 8, 32],
  ] as const) {
    it(`should flush in the tick output was queued under light load (${name}), bursts included, with a linger ceiling`, () => {
      const { scheduler, conn, queue } = rig(50, costMs);
      for (let i = 0; i < 500; i++) {
        queue();
        // Only the immediate is pending: no timer, no linger.
        expect(scheduler.backoffMs).toBe(0);
        vi.advanceTimersByTime(0);
        expect(conn.carried).toHaveLength(i + 1 + Math.ceil(i / 10));
        if (i % 10 === 0) {
          // A burst: another event right after the run goes out in its tick too.
          queue();
          vi.advanceTimersByTime(0);
          expect(conn.carried.at(-1)).toBe(1);
        }
        vi.advanceTimersByTime(gapMs);
      }
      expect(scheduler.duty).toBeLessThan(LOADED_DUTY);
      expect(conn.carried.every((n) => n === 1)).toBe(true);
    });
  }

  it('should space runs out under load, bounded by the linger ceiling, so writes carry several events', () => {
    const { scheduler, conn, queue } = rig(20, 8);
    // An event every 1 ms while each run takes 8 ms: unthrottled, flushing would take ~90%.
    for (let i = 0; i < 2_000; i++) {
      queue();
      vi.advanceTimersByTime(1);
    }
    // Flushing now takes 8 ms of every 20 (it took ~90% unthrottled), still counted as load.
    expect(scheduler.duty).toBeGreaterThan(LIGHT_DUTY);
    expect(scheduler.duty).toBeCloseTo(8 / 20, 1);
    // Steady state: a run every 20 ms (min(ceiling, 8 / TARGET_DUTY)), each carrying ~12 events.
    expect(8 / TARGET_DUTY).toBeGreaterThan(20);
    const starts = conn.starts.slice(-30);
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBe(20);
    for (const n of conn.carried.slice(-30)) expect(n).toBeGreaterThanOrEqual(10);
  });

  it('should not wait under load when writes are coalesced already (large batches)', () => {
    // Batches of 100-byte events, 50 per event loop turn: each write carries 5 KB or more.
    const { scheduler, conn, queue } = rig(20, 8, 100);
    for (let i = 0; i < 2_000; i++) {
      for (let k = 0; k < 50; k++) queue();
      vi.advanceTimersByTime(1);
    }
    expect(scheduler.duty).toBeGreaterThan(LOADED_DUTY);
    expect(50 * 100).toBeGreaterThanOrEqual(COALESCED_BYTES);
    const starts = conn.starts.slice(-30);
    // A run every 9 ms: 8 ms of flushing and the 1 ms tick, no linger.
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBeLessThan(10);
    expect(scheduler.backoffMs).toBe(0);
  });

  it('should space runs by the last run cost / TARGET_DUTY under the ceiling', () => {
    const { conn, queue } = rig(1_000, 4);
    for (let i = 0; i < 2_000; i++) {
      queue();
      vi.advanceTimersByTime(1);
    }
    const starts = conn.starts.slice(-30);
    for (let i = 1; i < starts.length; i++) {
      expect(starts[i] - starts[i - 1]).toBe(4 / TARGET_DUTY);
    }
  });

  it('should go back to no linger once the load is gone', () => {
    const { scheduler, conn, queue } = rig(20, 8);
    for (let i = 0; i < 1_000; i++) {
      queue();
      vi.advanceTimersByTime(1);
    }
    expect(scheduler.backoffMs).toBeGreaterThan(0);
    // Half a second of quiet: the smoothed duty cycle decays below the light-load mark.
    vi.advanceTimersByTime(500);
    expect(scheduler.duty).toBeLessThan(LIGHT_DUTY);
    const runs = conn.carried.length;
    queue();
    vi.advanceTimersByTime(0);
    expect(conn.carried).toHaveLength(runs + 1);
  });

  it('should never wait with BATCH_LINGER_MS=0, whatever the load', () => {
    const { scheduler, conn, queue } = rig(0, 500);
    for (let i = 0; i < 100; i++) {
      queue();
      vi.advanceTimersByTime(0);
      expect(conn.carried).toHaveLength(i + 1);
      vi.advanceTimersByTime(1);
    }
    expect(scheduler.duty).toBeGreaterThan(0.9);
    expect(scheduler.backoffMs).toBe(0);
  });
  it('should flush every other target of a run when one flush throws, and keep scheduling', async () => {
    const scheduler = new WriteScheduler(0);
    const flushed: string[] = [];
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      scheduler.schedule({
        flush: () => {
          throw new Error('boom');
        },
      });
      scheduler.schedule({ flush: () => flushed.push('second') });
      await new Promise((r) => setImmediate(r));
      expect(flushed).toEqual(['second']);
      scheduler.schedule({ flush: () => flushed.push('later') });
      await new Promise((r) => setImmediate(r));
      expect(flushed).toEqual(['second', 'later']);
      expect(warn).toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

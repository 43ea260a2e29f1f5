import { afterEach, describe, expect, it, vi } from 'vitest';
import { DueTimers } from './due.timers';

describe('DueTimers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('should fire every item of a due time once, from one timer', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const fired: string[] = [];
    const timers = new DueTimers<string>((item) => fired.push(item));
    timers.add(1_005_000, 'a');
    timers.add(1_005_000, 'b');
    timers.add(1_009_000, 'c');
    expect(timers.timers).toBe(2);
    vi.advanceTimersByTime(4999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a', 'b']);
    expect(timers.timers).toBe(1);
    vi.advanceTimersByTime(4000);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(timers.timers).toBe(0);
  });

  it('should not fire a deleted item, and drop the timer of an emptied due time', () => {
    vi.useFakeTimers({ now: 0 });
    const fired: string[] = [];
    const timers = new DueTimers<string>((item) => fired.push(item));
    timers.add(100, 'a');
    timers.add(100, 'b');
    timers.delete(100, 'a');
    expect(timers.timers).toBe(1);
    timers.delete(100, 'b');
    expect(timers.timers).toBe(0);
    vi.advanceTimersByTime(200);
    expect(fired).toEqual([]);
  });

  it('should fire a past due time at once and wait out delays longer than setTimeout takes', () => {
    vi.useFakeTimers({ now: 10_000 });
    const fired: number[] = [];
    const timers = new DueTimers<number>((item) => fired.push(item));
    timers.add(5_000, 1);
    const far = 10_000 + 2 ** 31 + 5_000;
    timers.add(far, 2);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([1]);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(fired).toEqual([1]);
    vi.advanceTimersByTime(5_001);
    expect(fired).toEqual([1, 2]);
  });

  it('should run the other items when one throws', () => {
    vi.useFakeTimers({ now: 0 });
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const fired: string[] = [];
    const timers = new DueTimers<string>((item) => {
      if (item === 'bad') throw new Error('boom');
      fired.push(item);
    });
    timers.add(10, 'bad');
    timers.add(10, 'good');
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['good']);
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });
});

import { describe, expect, it } from 'vitest';
import { takeToken, type BucketState } from './token-bucket';

describe('takeToken', () => {
  it('should allow a full burst then refuse with the time to the next token when drained', () => {
    let state: BucketState | undefined;
    const outcomes: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const r = takeToken(state, 1000, 2, 5);
      state = r.state;
      outcomes.push(r.take.allowed);
    }
    expect(outcomes).toEqual([true, true, true, true, true, false]);
    const refused = takeToken(state, 1000, 2, 5).take;
    expect(refused.retryAfterMs).toBe(500);
    expect(refused.fullInMs).toBe(2500);
  });

  it('should refill at the rate up to the burst when time passes', () => {
    let state: BucketState = { tokens: 0, at: 0 };
    const half = takeToken(state, 499, 2, 5);
    expect(half.take.allowed).toBe(false);
    state = half.state;
    const one = takeToken(state, 500, 2, 5);
    expect(one.take.allowed).toBe(true);
    const later = takeToken({ tokens: 0, at: 0 }, 1_000_000, 2, 5);
    expect(later.take.tokens).toBe(4);
  });

  it('should take a cost all or none, and only check at cost 0', () => {
    const eight = takeToken(undefined, 0, 1, 10, 8);
    expect(eight.take).toMatchObject({ allowed: true, tokens: 2 });
    const three = takeToken(eight.state, 0, 1, 10, 3);
    expect(three.take).toMatchObject({ allowed: false, tokens: 2, retryAfterMs: 1000 });
    const check = takeToken(three.state, 0, 1, 10, 0);
    expect(check.take).toMatchObject({ allowed: true, tokens: 2 });
    const two = takeToken(check.state, 0, 1, 10, 2);
    expect(two.take).toMatchObject({ allowed: true, tokens: 0 });
    expect(takeToken(two.state, 0, 1, 10, 0).take).toMatchObject({
      allowed: false,
      retryAfterMs: 1000,
    });
  });
});

import type { BucketTake } from './limits.store';

/** A bucket's level at a point in time. */
export interface BucketState {
  readonly tokens: number;
  readonly at: number;
}

/**
 * Takes `cost` tokens (default 1) at time `now` (ms) from a bucket refilled at `ratePerS` up to
 * `burst`, all or none; a bucket never seen is full. `cost` 0 checks that one token is left
 * without taking it. Pure: returns the next state with the outcome.
 */
export function takeToken(
  state: BucketState | undefined,
  now: number,
  ratePerS: number,
  burst: number,
  cost = 1,
): { state: BucketState; take: BucketTake } {
  const ratePerMs = ratePerS / 1000;
  let tokens = burst;
  if (state !== undefined) {
    tokens = Math.min(burst, state.tokens + Math.max(0, now - state.at) * ratePerMs);
  }
  const need = Math.max(cost, 1);
  const allowed = tokens >= need;
  if (allowed) tokens -= cost;
  return {
    state: { tokens, at: now },
    take: {
      allowed,
      tokens,
      retryAfterMs: allowed ? 0 : Math.ceil((need - tokens) / ratePerMs),
      fullInMs: Math.ceil((burst - tokens) / ratePerMs),
    },
  };
}

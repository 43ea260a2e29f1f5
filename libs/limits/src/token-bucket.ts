import type { BucketTake } from './limits.store';

/** A bucket's level at a point in time. */
export interface BucketState {
  readonly tokens: number;
  readonly at: number;
}

/**
 * Takes one token at time `now` (ms) from a bucket refilled at `ratePerS` up to `burst`; a
 * bucket never seen is full. Pure: returns the next state with the outcome.
 */
export function takeToken(
  state: BucketState | undefined,
  now: number,
  ratePerS: number,
  burst: number,
): { state: BucketState; take: BucketTake } {
  const ratePerMs = ratePerS / 1000;
  let tokens = burst;
  if (state !== undefined) {
    tokens = Math.min(burst, state.tokens + Math.max(0, now - state.at) * ratePerMs);
  }
  const allowed = tokens >= 1;
  if (allowed) tokens -= 1;
  return {
    state: { tokens, at: now },
    take: {
      allowed,
      tokens,
      retryAfterMs: allowed ? 0 : Math.ceil((1 - tokens) / ratePerMs),
      fullInMs: Math.ceil((burst - tokens) / ratePerMs),
    },
  };
}

import type { JWTPayload } from 'jose';

/** Why a cached token no longer passes: the same refusals jose's claim checks give. */
export type CachedTokenRefusal = 'expired' | 'not-yet-valid';

/**
 * A bounded cache of tokens whose signature and claims were verified, keyed by the exact token
 * string (a different token, even by one byte, never matches). Only the checks that depend on the
 * clock are not settled once and for all by a verification, so {@link get} runs them again on
 * every hit, exactly as jose does (`now` in whole seconds; `nbf > now + tolerance` is not yet
 * valid, `exp <= now - tolerance` expired): everything else a verification decides (the MAC, the
 * algorithm, the header, `iss`, `aud`, `exp` being present) depends only on the token string and
 * the verifier's fixed key and options. Revocation is not a property of the token string and is
 * checked by the callers after verification, hit or miss. Entries leave first in, first out once
 * `capacity` is reached, and at once when found expired. A token longer than `maxTokenChars` is
 * never held (its claims could be large: the bound is in bytes as well as in entries). Payloads
 * are frozen all the way down: every hit shares one.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, JWTPayload>();

  constructor(
    private readonly capacity: number,
    private readonly clockToleranceS: number,
    private readonly maxTokenChars = 2048,
  ) {}

  /**
   * The verified claims of `token` if it is cached and its time claims still pass now;
   * `undefined` when it is not cached; the refusal when it no longer passes.
   */
  get(token: string, nowMs: number): JWTPayload | CachedTokenRefusal | undefined {
    const payload = this.entries.get(token);
    if (payload === undefined) return undefined;
    const now = Math.floor(nowMs / 1000);
    if (typeof payload.nbf === 'number' && payload.nbf > now + this.clockToleranceS) {
      return 'not-yet-valid';
    }
    if (typeof payload.exp !== 'number' || payload.exp <= now - this.clockToleranceS) {
      this.entries.delete(token);
      return 'expired';
    }
    return payload;
  }

  /**
   * Records a token that was just verified (unless it is longer than `maxTokenChars`); its claims,
   * deeply frozen, are returned to every hit.
   */
  set(token: string, payload: JWTPayload): void {
    if (this.capacity <= 0 || token.length > this.maxTokenChars) return;
    if (this.entries.size >= this.capacity && !this.entries.has(token)) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(token, deepFreeze(payload));
  }

  /** Number of tokens held. */
  get size(): number {
    return this.entries.size;
  }
}

/** Freezes `value` and every object and array reachable from it (claims are plain JSON). */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value as object)) deepFreeze(child);
  return value;
}

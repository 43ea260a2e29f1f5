/**
 * Port: subjects whose tokens issued before a moment are refused. Bind another adapter (e.g. a
 * Redis one shared by every instance) with `{ provide: RevocationList, useClass: ... }`.
 */
export abstract class RevocationList {
  /** Refuses `sub`'s tokens issued before `at` (epoch ms). */
  abstract revoke(sub: string, at: number): Promise<void>;
  /**
   * True when `sub` was revoked after its token was issued. `issuedAt` is the token's `iat` in
   * epoch ms (seconds precision: a token from the revocation's own second is refused too); a
   * token without `iat` of a revoked subject is refused.
   * @throws RevocationUnavailableError when the store cannot answer (callers fail closed).
   */
  abstract isRevoked(sub: string, issuedAt: number | undefined): Promise<boolean>;

  /** Releases connections (no-op for in-process adapters). */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

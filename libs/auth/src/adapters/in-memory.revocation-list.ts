import { Injectable } from '@nestjs/common';
import { RevocationList } from '../revocation.list';

/** One-instance {@link RevocationList}: the latest revocation per subject, kept in memory. */
@Injectable()
export class InMemoryRevocationList extends RevocationList {
  private readonly revokedAt = new Map<string, number>();

  revoke(sub: string, at: number): Promise<void> {
    this.revokedAt.set(sub, Math.max(at, this.revokedAt.get(sub) ?? 0));
    return Promise.resolve();
  }

  isRevoked(sub: string, issuedAt: number | undefined): Promise<boolean> {
    const at = this.revokedAt.get(sub);
    if (at === undefined) return Promise.resolve(false);
    return Promise.resolve(issuedAt === undefined || issuedAt < Math.ceil(at / 1000) * 1000);
  }
}

import { describe, expect, it } from 'vitest';
import { InMemoryRevocationList } from './in-memory.revocation-list';

describe('InMemoryRevocationList', () => {
  it('should refuse tokens issued before (or in the second of) the revocation only', async () => {
    const list = new InMemoryRevocationList();
    await list.revoke('bob', 10_500);
    expect(await list.isRevoked('bob', 9_000)).toBe(true);
    expect(await list.isRevoked('bob', 10_000)).toBe(true);
    expect(await list.isRevoked('bob', 11_000)).toBe(false);
    expect(await list.isRevoked('bob', undefined)).toBe(true);
    expect(await list.isRevoked('alice', 0)).toBe(false);
  });

  it('should keep the latest revocation of a subject', async () => {
    const list = new InMemoryRevocationList();
    await list.revoke('bob', 20_000);
    await list.revoke('bob', 5_000);
    expect(await list.isRevoked('bob', 15_000)).toBe(true);
  });
});

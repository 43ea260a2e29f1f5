import { Logger } from '@nestjs/common';
import { RedisConnections, type RedisClient, type RedisConnectionOptions } from '@herald/redis';
import { RevocationUnavailableError } from '../auth.errors';
import { RevocationList } from '../revocation.list';

/** Options of {@link RedisRevocationList}. */
export interface RedisRevocationListOptions {
  /** Where Redis is: one node, Cluster or Sentinel. */
  readonly redis: RedisConnectionOptions;
  /** Prefix of Herald's keys (REDIS_KEY_PREFIX); revocations live at `<prefix>revoked:<sub>`. */
  readonly keyPrefix: string;
}

/** Keeps the later of the stored and the new revocation time (atomic). */
const REVOKE = `
local current = redis.call('GET', KEYS[1])
if (not current) or tonumber(current) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1`;

/**
 * {@link RevocationList} shared by every instance through Redis. Revocations do not expire (a
 * token may live long). When Redis cannot answer, the check fails closed
 * ({@link RevocationUnavailableError}: a transient refusal).
 */
export class RedisRevocationList extends RevocationList {
  private readonly logger = new Logger(RedisRevocationList.name);
  private readonly redis: RedisClient;

  constructor(private readonly options: RedisRevocationListOptions) {
    super();
    this.redis = new RedisConnections(options.redis).create('commands', {
      name: 'herald-revocations',
      commandTimeoutMs: 1000,
      offlineQueue: true,
    });
    this.redis.on('error', (err: Error) => this.logger.debug(`redis: ${err.message}`));
  }

  async revoke(sub: string, at: number): Promise<void> {
    await this.call(() => this.redis.eval(REVOKE, 1, this.key(sub), String(at)));
  }

  async isRevoked(sub: string, issuedAt: number | undefined): Promise<boolean> {
    const stored = await this.call(() => this.redis.get(this.key(sub)));
    if (stored === null) return false;
    const at = Number(stored);
    return issuedAt === undefined || issuedAt < Math.ceil(at / 1000) * 1000;
  }

  override close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }

  private key(sub: string): string {
    return `${this.options.keyPrefix}revoked:${sub}`;
  }

  private async call<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      this.logger.warn(`revocation store unavailable: ${(err as Error).message}`);
      throw new RevocationUnavailableError();
    }
  }
}

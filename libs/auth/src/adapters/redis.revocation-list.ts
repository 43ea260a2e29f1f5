import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RevocationUnavailableError } from '../auth.errors';
import { RevocationList } from '../revocation.list';

/** Options of {@link RedisRevocationList}. */
export interface RedisRevocationListOptions {
  readonly url: string;
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
  private readonly redis: Redis;

  constructor(private readonly options: RedisRevocationListOptions) {
    super();
    // Its commands (GET, and a SET of the later time) are idempotent: a resend after a
    // reconnect is harmless, so a check in flight at a blip may still succeed.
    this.redis = new Redis(options.url, { maxRetriesPerRequest: 1, commandTimeout: 1000 });
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

import { Logger } from '@nestjs/common';
import { RedisConnections, type RedisClient, type RedisConnectionOptions } from '@herald/redis';

/** Where `earliest` resumes: after `cursor`, the position just before the oldest retained id. */
export interface EarliestPosition {
  /** Undefined: no update recorded (nothing to replay). */
  readonly cursor: string | undefined;
  /** True when the oldest recorded update is the first ever (resume from the origin instead). */
  readonly fromOrigin: boolean;
}

/**
 * Port: Mercure ids (publisher-supplied or hub-generated) to broker cursors, bounded like the
 * history (the last `historySize + 1` updates, and HISTORY_TTL_S), so a client resumes from any
 * id it received, on any instance. Adapters: in memory (one instance), Redis (every instance).
 */
export abstract class MercureIdStore {
  /** Records that update `id` is at `cursor` (a later update with the same id wins). */
  abstract record(id: string, cursor: string): Promise<void>;
  /** The cursor of update `id`, or undefined when unknown or forgotten. */
  abstract cursorOf(id: string): Promise<string | undefined>;
  /** Where an `earliest` resume starts. */
  abstract earliest(): Promise<EarliestPosition>;
  /** The id of the last update recorded, or undefined. */
  abstract lastId(): Promise<string | undefined>;
  abstract close(): Promise<void>;
}

/** {@link MercureIdStore} in this process (BROKER=memory). */
export class MemoryMercureIdStore extends MercureIdStore {
  private readonly ids = new Map<string, string>();
  private readonly ring: { id: string; cursor: string }[] = [];
  private evicted = false;

  constructor(private readonly historySize: number) {
    super();
  }

  record(id: string, cursor: string): Promise<void> {
    this.ids.set(id, cursor);
    this.ring.push({ id, cursor });
    while (this.ring.length > this.historySize + 1) {
      const old = this.ring.shift();
      this.evicted = true;
      if (old !== undefined && this.ids.get(old.id) === old.cursor) this.ids.delete(old.id);
    }
    return Promise.resolve();
  }

  cursorOf(id: string): Promise<string | undefined> {
    return Promise.resolve(this.ids.get(id));
  }

  earliest(): Promise<EarliestPosition> {
    return Promise.resolve({ cursor: this.ring[0]?.cursor, fromOrigin: !this.evicted });
  }

  lastId(): Promise<string | undefined> {
    return Promise.resolve(this.ring[this.ring.length - 1]?.id);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Records an id: hash `id -> cursor`, ring of `cursor \n id` (oldest first) trimmed to
 * ARGV[3] entries (dropping each trimmed id unless it was re-recorded since), both expiring
 * after ARGV[4] ms; a flag key remembers that the ring was ever trimmed.
 */
const RECORD = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[2] .. '\\n' .. ARGV[1])
local keep = tonumber(ARGV[3])
while redis.call('LLEN', KEYS[2]) > keep do
  local old = redis.call('LPOP', KEYS[2])
  local nl = string.find(old, '\\n', 1, true)
  local cursor = string.sub(old, 1, nl - 1)
  local id = string.sub(old, nl + 1)
  if redis.call('HGET', KEYS[1], id) == cursor then redis.call('HDEL', KEYS[1], id) end
  redis.call('SET', KEYS[3], '1')
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1
`;

/** {@link MercureIdStore} in Redis (BROKER=redis): one hash slot (`{mercure}`), Cluster-safe. */
export class RedisMercureIdStore extends MercureIdStore {
  private readonly logger = new Logger('MercureIdStore');
  private readonly redis: RedisClient;
  private readonly keys: { ids: string; ring: string; trimmed: string };

  constructor(
    redis: RedisConnectionOptions,
    keyPrefix: string,
    private readonly historySize: number,
    private readonly ttlMs: number,
  ) {
    super();
    this.redis = new RedisConnections(redis).create('commands', {
      name: 'herald-mercure',
      commandTimeoutMs: 2000,
      offlineQueue: true,
    });
    this.redis.on('error', (err: Error) => this.logger.debug(`redis: ${err.message}`));
    const base = `${keyPrefix}{mercure}:`;
    this.keys = { ids: `${base}ids`, ring: `${base}ring`, trimmed: `${base}trimmed` };
  }

  async record(id: string, cursor: string): Promise<void> {
    const { ids, ring, trimmed } = this.keys;
    await this.redis.eval(
      RECORD,
      3,
      ids,
      ring,
      trimmed,
      id,
      cursor,
      String(this.historySize + 1),
      String(Math.max(1000, this.ttlMs)),
    );
  }

  async cursorOf(id: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.ids, id)) ?? undefined;
  }

  async earliest(): Promise<EarliestPosition> {
    const [first, trimmed] = await Promise.all([
      this.redis.lindex(this.keys.ring, 0),
      this.redis.exists(this.keys.trimmed),
    ]);
    return { cursor: first === null ? undefined : first.split('\n')[0], fromOrigin: trimmed === 0 };
  }

  async lastId(): Promise<string | undefined> {
    const last = await this.redis.lindex(this.keys.ring, -1);
    if (last === null) return undefined;
    return last.slice(last.indexOf('\n') + 1);
  }

  close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}

import { createHash } from 'node:crypto';
import { RedisKeys } from './redis.keys';

/** Most write partitions (REDIS_PARTITIONS); the cursor encoding is sized for it. */
export const MAX_PARTITIONS = 16;
/** Hash slots of a Redis Cluster. */
const SLOTS = 16384;

/** CRC16/XMODEM, the checksum Redis Cluster maps keys to slots with. */
export function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The Cluster hash slot of a hash tag (the text between `{` and `}` of a key). */
export function slotOf(tag: string): number {
  return crc16(tag) % SLOTS;
}

/**
 * Hash tags of `count` partitions. With one partition: `events` (today's keys). With more, tag i is
 * the first `p<i>.<n>` whose slot falls in the i-th of `count` equal slot ranges, so the
 * partitions spread evenly over any layout that gives primaries equal slot ranges (the default
 * `redis-cli --cluster create` layout: with 3 primaries and P = 6, two partitions per primary).
 */
export function partitionTags(count: number): string[] {
  if (count === 1) return ['events'];
  const tags: string[] = [];
  for (let i = 0; i < count; i++) {
    const lo = Math.floor((i * SLOTS) / count);
    const hi = Math.floor(((i + 1) * SLOTS) / count);
    for (let n = 0; ; n++) {
      const tag = `p${i}.${n}`;
      const slot = slotOf(tag);
      if (slot >= lo && slot < hi) {
        tags.push(tag);
        break;
      }
    }
  }
  return tags;
}

/**
 * Herald's key space split into write partitions: which partition a topic belongs to and the keys
 * of each. The one place that maps a topic to its keys (history stream, registry, channel).
 */
export class RedisKeyspace {
  /** Keys of each partition, by index. */
  readonly partitions: readonly RedisKeys[];

  constructor(
    prefix: string | undefined,
    /** REDIS_PARTITIONS (1..16). */
    readonly count: number = 1,
  ) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) {
      throw new RangeError(`partitions must be an integer in 1..${MAX_PARTITIONS}, got ${count}`);
    }
    this.partitions = partitionTags(count).map((tag) => new RedisKeys(prefix, tag));
  }

  /** The partition of `topic`: a stable hash (first 4 bytes of SHA-1) modulo the count. */
  partitionOf(topic: string): number {
    if (this.count === 1) return 0;
    return createHash('sha1').update(topic).digest().readUInt32BE(0) % this.count;
  }

  /** The keys of the partition `topic` belongs to. */
  forTopic(topic: string): RedisKeys {
    return this.partitions[this.partitionOf(topic)];
  }

  /** The history stream of `topic` (the key every reader of a topic's history uses). */
  stream(topic: string): string {
    return this.forTopic(topic).stream(topic);
  }
}

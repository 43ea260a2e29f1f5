import { idempotencyRecordName, type IdempotencyKey } from '../../idempotency.key';

/** Default prefix of every key and channel Herald writes (REDIS_KEY_PREFIX). */
export const DEFAULT_REDIS_KEY_PREFIX = 'herald:';

/**
 * Names of Herald's Redis keys. Every key and the live channel share the `{events}` hash tag, so
 * the publish script (which touches the sequence, the topic stream and the registry atomically)
 * runs in one Redis Cluster slot.
 */
export class RedisKeys {
  private readonly base: string;

  constructor(prefix: string = DEFAULT_REDIS_KEY_PREFIX) {
    this.base = `${prefix}{events}:`;
  }

  /** Global event counter (INCR). */
  get seq(): string {
    return `${this.base}seq`;
  }
  /** `<ms>-<seq>` of the last published event. */
  get last(): string {
    return `${this.base}last`;
  }
  /** Random id of this key space; changes when Redis loses its data. */
  get epoch(): string {
    return `${this.base}epoch`;
  }
  /** ZSET topic -> ms of its last publish (pattern replay and gap backfill). */
  get topics(): string {
    return `${this.base}topics`;
  }
  /** Cutoff (ms) below which forgotten topics may have held events. */
  get forgotten(): string {
    return `${this.base}forgotten`;
  }
  /** Pub/sub channel carrying every event. */
  get channel(): string {
    return `${this.base}live`;
  }
  /** The bounded history stream of one topic. */
  stream(topic: string): string {
    return `${this.base}t:${topic}`;
  }
  /**
   * One idempotency record: `idem:<namespace>:<owner length>:<owner>:<key>`, so keys of two
   * scopes never share a record (see {@link idempotencyRecordName}).
   */
  idempotency(key: IdempotencyKey): string {
    return `${this.base}idem:${idempotencyRecordName(key)}`;
  }
}

/** A decoded Redis cursor: `r.<epoch>.<ms>.<seq>`. */
export interface RedisCursor {
  readonly epoch: string;
  readonly ms: number;
  readonly seq: number;
}

const CURSOR = /^r\.([a-z0-9]{1,16})\.([0-9]{1,15})\.([0-9]{1,16})$/;

/** Parses a cursor, or `undefined` when malformed. */
export function parseRedisCursor(cursor: string): RedisCursor | undefined {
  const m = CURSOR.exec(cursor);
  if (!m) return undefined;
  const ms = Number(m[2]);
  const seq = Number(m[3]);
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) return undefined;
  return { epoch: m[1], ms, seq };
}

/** Formats a cursor. */
export function formatRedisCursor(epoch: string, ms: number, seq: number): string {
  return `r.${epoch}.${ms}.${seq}`;
}

/** The stream entry id of an event: `<ms>-<seq>`. */
export function streamId(ms: number, seq: number): string {
  return `${ms}-${seq}`;
}

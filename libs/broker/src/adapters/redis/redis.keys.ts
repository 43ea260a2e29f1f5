import { createHash } from 'node:crypto';
import { idempotencyRecordName, type IdempotencyKey } from '../../idempotency.key';

/** Default prefix of every key and channel Herald writes (REDIS_KEY_PREFIX). */
export const DEFAULT_REDIS_KEY_PREFIX = 'herald:';

/**
 * Names of the Redis keys of one write partition. Every key and the live channel of a partition
 * share its hash tag (`{events}` with one partition), so the publish script (which touches the
 * sequence, the topic stream and the registry atomically) runs in one Redis Cluster slot.
 * {@link RedisKeyspace} maps topics to partitions.
 */
export class RedisKeys {
  private readonly base: string;

  constructor(prefix: string = DEFAULT_REDIS_KEY_PREFIX, tag = 'events') {
    this.base = `${prefix}{${tag}}:`;
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
  /** ZSET seq -> `<seq>:<ms>`: the first event of each second (partitioned cursors carry no ms). */
  get clock(): string {
    return `${this.base}clock`;
  }
  /** Pub/sub channel carrying every event of the partition. */
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

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `n` (a safe non-negative integer) in base 62. */
export function toBase62(n: number): string {
  let out = '';
  do {
    out = B62[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out;
}

/** A base-62 number, or `undefined` when not one (or not a safe integer). */
export function fromBase62(text: string): number | undefined {
  if (text.length === 0 || text.length > 9) return undefined;
  let n = 0;
  for (const c of text) {
    const d = B62.indexOf(c);
    if (d < 0) return undefined;
    n = n * 62 + d;
  }
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * A cursor of a partitioned key space (REDIS_PARTITIONS > 1):
 * `q<P>.<fp>.<own>` then `.<seq>` for each of the P partitions. `P` and `own` (the partition of
 * the event carrying the id, `_` on a reset or "now" cursor) are one base-36 character; `fp` is a
 * 4-character digest of the partitions' epochs; each `seq` is base 62, empty when the position in
 * that partition is unknown. Length: 9 + P + sum of the sequences' base-62 digits, so at most
 * 9 + 16 + 16 x 6 = 121 bytes at P = 16 while every partition's sequence is below 62^6
 * (5.7e10 events per partition); 7 partitions may pass it and stay within 128.
 * An id returned by `publish` knows its own partition only; its own component also carries the
 * event's time (`<seq>~<ms>`, base 62), from which the other partitions resume.
 */
export interface PartitionedCursor {
  readonly partitions: number;
  readonly fingerprint: string;
  /** Partition of the event this id belongs to (`undefined` for reset and now cursors). */
  readonly own: number | undefined;
  /** Sequence reached in each partition; `undefined` when unknown. */
  readonly seqs: readonly (number | undefined)[];
  /** Time (ms) of the own event, on ids returned by publish: unknown partitions resume from it. */
  readonly ms?: number;
}

const PARTITIONED =
  /^q([2-9a-g])\.([0-9A-Za-z]{4})\.([0-9a-f_])((?:\.[0-9A-Za-z]{0,9}(?:~[0-9A-Za-z]{1,9})?){2,16})$/;

/** Parses a partitioned cursor, or `undefined` when malformed. */
export function parsePartitionedCursor(cursor: string): PartitionedCursor | undefined {
  if (cursor.length > 128) return undefined;
  const m = PARTITIONED.exec(cursor);
  if (!m) return undefined;
  const partitions = parseInt(m[1], 36);
  const own = m[3] === '_' ? undefined : parseInt(m[3], 36);
  if (own !== undefined && own >= partitions) return undefined;
  const parts = m[4].slice(1).split('.');
  if (parts.length !== partitions) return undefined;
  const seqs: (number | undefined)[] = [];
  let ms: number | undefined;
  for (const [i, p] of parts.entries()) {
    const tilde = p.indexOf('~');
    if (tilde >= 0) {
      if (i !== own || ms !== undefined) return undefined;
      ms = fromBase62(p.slice(tilde + 1));
      if (ms === undefined) return undefined;
    }
    const text = tilde >= 0 ? p.slice(0, tilde) : p;
    if (text === '') {
      seqs.push(undefined);
      continue;
    }
    const n = fromBase62(text);
    if (n === undefined) return undefined;
    seqs.push(n);
  }
  if (own !== undefined && seqs[own] === undefined) return undefined;
  return { partitions, fingerprint: m[2], own, seqs, ...(ms !== undefined ? { ms } : {}) };
}

/**
 * Formats a partitioned cursor (`own`: the event's partition, if it is an event's id; `ownMs`:
 * its time, on ids returned by publish).
 */
export function formatPartitionedCursor(
  fingerprint: string,
  seqs: readonly (number | undefined)[],
  own?: number,
  ownMs?: number,
): string {
  let out = `q${seqs.length.toString(36)}.${fingerprint}.${own === undefined ? '_' : own.toString(36)}`;
  seqs.forEach((s, i) => {
    out += s === undefined ? '.' : `.${toBase62(s)}`;
    if (i === own && ownMs !== undefined) out += `~${toBase62(ownMs)}`;
  });
  return out;
}

/**
 * Which stored event an id names, whatever subscription it was delivered to: with several
 * partitions a delivered id is the subscription's position (it differs from the id `publish`
 * returned), but both name the event's partition and sequence. Any other id is its own identity.
 */
export function eventIdentity(id: string): string {
  const c = parsePartitionedCursor(id);
  if (c === undefined || c.own === undefined) return id;
  return `${c.own}:${c.seqs[c.own]}`;
}

/** The 4-character digest of the partitions' epochs carried by partitioned cursors. */
export function epochFingerprint(epochs: readonly string[]): string {
  const n = createHash('sha1').update(epochs.join(',')).digest().readUInt32BE(0) % 62 ** 4;
  return toBase62(n).padStart(4, '0');
}

import { describe, expect, it } from 'vitest';
import {
  eventIdentity,
  formatPartitionedCursor,
  formatRedisCursor,
  parsePartitionedCursor,
  toBase62,
} from './redis.keys';
import { MAX_PARTITIONS, RedisKeyspace, crc16, partitionTags, slotOf } from './redis.partitions';

const ID = /^[A-Za-z0-9._~:-]{1,128}$/;
/** The default `redis-cli --cluster create` layout of 3 primaries. */
const THREE_PRIMARIES: [number, number][] = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
];

describe('RedisKeyspace', () => {
  it('should compute Redis Cluster slots (CRC16/XMODEM) like Redis does', () => {
    // Reference values from CLUSTER KEYSLOT.
    expect(crc16('123456789')).toBe(0x31c3);
    expect(slotOf('foo')).toBe(12182);
  });

  it('should keep the `{events}` keys with one partition and spread P tags evenly over slots', () => {
    expect(new RedisKeyspace('h:', 1).partitions[0].seq).toBe('h:{events}:seq');
    for (let p = 2; p <= MAX_PARTITIONS; p++) {
      const slots = partitionTags(p).map(slotOf);
      // Tag i lands in the i-th of P equal slot ranges.
      slots.forEach((slot, i) => {
        expect(slot).toBeGreaterThanOrEqual(Math.floor((i * 16384) / p));
        expect(slot).toBeLessThan(Math.floor(((i + 1) * 16384) / p));
      });
    }
    for (const [p, each] of [
      [3, 1],
      [6, 2],
      [9, 3],
    ] as const) {
      const perPrimary = THREE_PRIMARIES.map(
        ([lo, hi]) => partitionTags(p).filter((t) => slotOf(t) >= lo && slotOf(t) <= hi).length,
      );
      expect(perPrimary).toEqual([each, each, each]);
    }
  });

  it('should map a topic to one stable partition and spread topics over all of them', () => {
    const ks = new RedisKeyspace('h:', 6);
    const again = new RedisKeyspace('other:', 6);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 6000; i++) {
      const p = ks.partitionOf(`orders/${i}`);
      expect(again.partitionOf(`orders/${i}`)).toBe(p);
      counts[p]++;
    }
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(ks.stream('a/b')).toBe(ks.partitions[ks.partitionOf('a/b')].stream('a/b'));
    expect(() => new RedisKeyspace('h:', 17)).toThrow(RangeError);
    expect(() => new RedisKeyspace('h:', 0)).toThrow(RangeError);
  });
});

describe('partitioned cursors', () => {
  it('should stay within 128 bytes of the id alphabet in the worst case at P = 16', () => {
    // Every partition touched, every sequence at the largest 6-digit base-62 value, own set.
    const seqs = new Array<number>(16).fill(62 ** 6 - 1);
    const worst = formatPartitionedCursor('Zzzz', seqs, 15);
    expect(worst).toMatch(ID);
    expect(worst.length).toBe(9 + 16 + 16 * 6);
    expect(parsePartitionedCursor(worst)).toEqual({
      partitions: 16,
      fingerprint: 'Zzzz',
      own: 15,
      seqs,
    });
    // 7 partitions may pass 62^6 and still fit.
    const seven = seqs.map((s, i) => (i < 7 ? 62 ** 7 - 1 : s));
    expect(formatPartitionedCursor('Zzzz', seven, 0).length).toBeLessThanOrEqual(128);
    // A publish id (one partition, with its time) is short.
    const published = formatPartitionedCursor(
      'ab12',
      [undefined, 42, ...new Array<undefined>(14).fill(undefined)],
      1,
      1_795_000_000_000,
    );
    expect(published).toMatch(ID);
    expect(parsePartitionedCursor(published)).toMatchObject({ own: 1, ms: 1_795_000_000_000 });
  });

  it('should refuse malformed partitioned cursors and name the event an id belongs to', () => {
    for (const bad of [
      'q6.abcd._.1.2', // 2 of 6 partitions
      'q1.abcd._.1', // one partition has the `r.` format
      'q6.abc._.1.....', // short fingerprint
      'q6.abcd.6......', // own partition out of range
      'q6.abcd.0......', // own partition without a sequence
      'q6.abcd._.1~5.....', // a time without an own partition
      `q2.abcd._.${'1'.repeat(10)}.`,
    ]) {
      expect(parsePartitionedCursor(bad)).toBeUndefined();
    }
    const delivered = formatPartitionedCursor('abcd', [5, 9, undefined], 1);
    const published = formatPartitionedCursor('abcd', [undefined, 9, undefined], 1, 123);
    expect(eventIdentity(delivered)).toBe(eventIdentity(published));
    expect(eventIdentity(delivered)).toBe(`1:9`);
    const single = formatRedisCursor('e1', 5, 7);
    expect(eventIdentity(single)).toBe(single);
    expect(toBase62(61)).toBe('z');
  });
});

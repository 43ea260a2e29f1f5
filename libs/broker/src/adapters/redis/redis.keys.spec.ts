import { describe, expect, it } from 'vitest';
import { RedisKeys, formatRedisCursor, parseRedisCursor, streamId } from './redis.keys';

describe('RedisKeys', () => {
  it('should put every key and the channel under one hash tag when built with a prefix', () => {
    const k = new RedisKeys('p:');
    const names = [k.seq, k.last, k.epoch, k.topics, k.forgotten, k.channel, k.stream('a/b')];
    for (const n of [
      ...names,
      k.idempotency({ scope: { namespace: 'sub', owner: 'u' }, key: 'x' }),
    ])
      expect(n.startsWith('p:{events}:')).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  it('should give distinct idempotency records to scopes whose plain concatenation collides', () => {
    const k = new RedisKeys('p:');
    const names = [
      k.idempotency({ scope: { namespace: 'sub', owner: 'acme' }, key: 'user:order-42' }),
      k.idempotency({ scope: { namespace: 'sub', owner: 'acme:user' }, key: 'order-42' }),
      k.idempotency({ scope: { namespace: 'ip', owner: 'acme:user' }, key: 'order-42' }),
      k.idempotency({ scope: { namespace: 'sub', owner: 'ingest' }, key: 'entry:1-0' }),
      k.idempotency({ scope: { namespace: 'ingest-entry', owner: 'herald:ingest' }, key: '1-0' }),
      k.idempotency({ scope: { namespace: 'ingest', owner: 'herald:ingest' }, key: '1-0' }),
      k.idempotency({ scope: { namespace: 'sub', owner: '' }, key: '3:x:k' }),
      k.idempotency({ scope: { namespace: 'sub', owner: '3:x' }, key: 'k' }),
    ];
    expect(new Set(names).size).toBe(names.length);
  });

  it('should round-trip a cursor and refuse malformed ones when parsing', () => {
    const c = formatRedisCursor('abc123', 1_795_000_000_000, 42);
    expect(c).toMatch(/^[A-Za-z0-9._~:-]{1,128}$/);
    expect(parseRedisCursor(c)).toEqual({ epoch: 'abc123', ms: 1_795_000_000_000, seq: 42 });
    expect(streamId(5, 7)).toBe('5-7');
    for (const bad of ['', 'r.', 'r.a.1', 'm.abc.1', 'r.ABC.1.2', `r.a.1.${'9'.repeat(17)}`]) {
      expect(parseRedisCursor(bad)).toBeUndefined();
    }
  });
});

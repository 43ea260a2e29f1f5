import { describe, expect, it } from 'vitest';
import { parseRedisNodeList } from './redis.options';

describe('parseRedisNodeList', () => {
  it('should parse host:port, IPv6 and rediss:// entries, with TLS when any uses rediss', () => {
    expect(parseRedisNodeList(['a:7000', '[::1]:7001'])).toEqual({
      nodes: [
        { host: 'a', port: 7000 },
        { host: '::1', port: 7001 },
      ],
      tls: false,
    });
    expect(parseRedisNodeList(['rediss://b.example:6380']).tls).toBe(true);
  });

  it('should throw naming the entry when it is not host:port', () => {
    expect(() => parseRedisNodeList(['a:0'])).toThrow('"a:0" is not host:port');
    expect(() => parseRedisNodeList(['http://a:1'])).toThrow('"http://a:1"');
  });
});

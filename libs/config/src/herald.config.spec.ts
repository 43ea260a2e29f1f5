import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from './config.schema';
import { ConfigValidationError, HeraldConfig } from './herald.config';

function exampleEntries(): Map<string, string> {
  const text = readFileSync(resolve(__dirname, '../../../.env.example'), 'utf8');
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) entries.set(m[1], m[2]);
  }
  return entries;
}

describe('HeraldConfig', () => {
  it('should list exactly the schema keys in .env.example', () => {
    expect([...exampleEntries().keys()].sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it('should accept .env.example as it stands and match its defaults', () => {
    const env = Object.fromEntries(exampleEntries());
    const fromExample = HeraldConfig.from(env);
    const defaults = HeraldConfig.from({});
    expect({ ...fromExample, INSTANCE_ID: 'x' }).toEqual({ ...defaults, INSTANCE_ID: 'x' });
  });

  it('should apply contract defaults', () => {
    const c = HeraldConfig.from({});
    expect(c).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      BROKER: 'memory',
      HISTORY_SIZE: 1000,
      HISTORY_TTL_S: 3600,
      HEARTBEAT_MS: 15000,
      RETRY_MS: 3000,
      MAX_TOPICS_PER_CONNECTION: 32,
      SHED_MODE: 'retry',
      AUTH_QUERY_TOKEN: true,
      COMPRESSION: 'off',
    });
    expect(c.REDACT_KEYS).toContain('card_number');
    expect(c.INSTANCE_ID).toMatch(/-\d+$/);
  });

  it('should report every invalid variable at once, by name', () => {
    let error: unknown;
    try {
      HeraldConfig.from({
        PORT: 'http',
        BROKER: 'kafka',
        HISTORY_SIZE: '0',
        SHED_MODE: 'loud',
        AUTH_QUERY_TOKEN: 'maybe',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const message = (error as Error).message;
    for (const key of ['PORT', 'BROKER', 'HISTORY_SIZE', 'SHED_MODE', 'AUTH_QUERY_TOKEN']) {
      expect(message).toContain(key);
    }
  });

  it('should default LOG_FORMAT to json in production and pretty elsewhere, unless set', () => {
    const secret = 'x'.repeat(32);
    expect(HeraldConfig.from({}).LOG_FORMAT).toBe('pretty');
    expect(HeraldConfig.from({ NODE_ENV: 'test' }).LOG_FORMAT).toBe('pretty');
    expect(HeraldConfig.from({ NODE_ENV: 'production', JWT_SECRET: secret }).LOG_FORMAT).toBe(
      'json',
    );
    expect(
      HeraldConfig.from({ NODE_ENV: 'production', JWT_SECRET: secret, LOG_FORMAT: 'pretty' }),
    ).toMatchObject({ LOG_FORMAT: 'pretty' });
    expect(HeraldConfig.from({ LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
  });

  it('should name each bad Redis topology setting at once', () => {
    const problems = (env: Record<string, string>) => {
      try {
        HeraldConfig.from(env);
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };
    const both = problems({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis:7001',
      REDIS_SENTINELS: 'sentinel:26379',
    });
    expect(both).toContain('REDIS_CLUSTER_NODES, REDIS_SENTINELS: set one of them');
    expect(both).toContain('REDIS_SENTINELS, REDIS_SENTINEL_NAME: set both or neither');
    expect(problems({ REDIS_CLUSTER_NODES: 'redis, host:99999' })).toContain(
      'REDIS_CLUSTER_NODES: redis, host:99999 not host:port',
    );
    const ok = HeraldConfig.from({
      REDIS_SENTINELS: 'rediss://s1:26379, [::1]:26380',
      REDIS_SENTINEL_NAME: 'herald',
    });
    expect(ok.REDIS_SENTINELS).toEqual(['rediss://s1:26379', '[::1]:26380']);
  });

  it('should treat empty strings as unset and parse lists', () => {
    const c = HeraldConfig.from({
      PORT: '',
      CORS_ORIGINS: 'https://a.example, https://b.example,',
    });
    expect(c.PORT).toBe(3000);
    expect(c.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });

  describe('auth settings', () => {
    const problems = (env: Record<string, string>): string => {
      try {
        HeraldConfig.from(env);
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };
    const pem = (type: 'rsa' | 'ec' | 'ed25519') => {
      const { publicKey } =
        type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : type === 'ec'
            ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
            : generateKeyPairSync('ed25519');
      return publicKey.export({ type: 'spki', format: 'pem' }).toString();
    };
    const secret = 'x'.repeat(32);

    it('should run without a key outside production, in auth dev mode', () => {
      expect(HeraldConfig.from({}).isAuthDevMode).toBe(true);
      expect(HeraldConfig.from({ JWT_SECRET: secret }).isAuthDevMode).toBe(false);
    });

    it('should refuse production without a key, naming JWT_SECRET', () => {
      expect(problems({ NODE_ENV: 'production' })).toMatch(/JWT_SECRET/);
      expect(problems({ NODE_ENV: 'production', JWT_SECRET: secret })).toBe('');
    });

    it('should refuse a JWT_SECRET shorter than 32 bytes in any environment', () => {
      expect(problems({ JWT_SECRET: 'x'.repeat(31) })).toMatch(/JWT_SECRET: must be at least 32/);
    });

    it('should refuse both keys, an invalid PEM, a private key and mismatched algorithms', () => {
      expect(problems({ JWT_SECRET: secret, JWT_PUBLIC_KEY: pem('ec') })).toMatch(/not both/);
      expect(problems({ JWT_PUBLIC_KEY: 'garbage', JWT_ALGORITHMS: 'RS256' })).toMatch(
        /JWT_PUBLIC_KEY: not a valid PEM/,
      );
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect(problems({ JWT_PUBLIC_KEY: privatePem, JWT_ALGORITHMS: 'ES256' })).toMatch(
        /JWT_PUBLIC_KEY/,
      );
      expect(problems({ JWT_PUBLIC_KEY: pem('rsa') })).toMatch(/JWT_ALGORITHMS: HS256 cannot/);
      expect(problems({ JWT_PUBLIC_KEY: pem('ec'), JWT_ALGORITHMS: 'RS256' })).toMatch(
        /JWT_ALGORITHMS/,
      );
      expect(problems({ JWT_SECRET: secret, JWT_ALGORITHMS: 'HS256,RS256' })).toMatch(
        /RS256 need JWT_PUBLIC_KEY/,
      );
      expect(problems({ JWT_ALGORITHMS: 'none' })).toMatch(/JWT_ALGORITHMS: unsupported none/);
    });

    it('should accept each supported key type with its algorithm, with escaped newlines too', () => {
      expect(problems({ JWT_PUBLIC_KEY: pem('rsa'), JWT_ALGORITHMS: 'RS256' })).toBe('');
      expect(problems({ JWT_PUBLIC_KEY: pem('ec'), JWT_ALGORITHMS: 'ES256' })).toBe('');
      const escaped = pem('ed25519').replace(/\n/g, '\\n');
      expect(problems({ JWT_PUBLIC_KEY: escaped, JWT_ALGORITHMS: 'EdDSA' })).toBe('');
    });

    it('should refuse invalid ANONYMOUS_TOPICS and CORS_ORIGINS entries', () => {
      expect(problems({ ANONYMOUS_TOPICS: 'ok/**,a/**/b' })).toMatch(/ANONYMOUS_TOPICS/);
      expect(problems({ CORS_ORIGINS: 'https://a.example/path' })).toMatch(/CORS_ORIGINS/);
      expect(problems({ CORS_ORIGINS: '*' })).toMatch(/CORS_ORIGINS/);
    });
  });
});

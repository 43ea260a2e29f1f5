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

  it('should treat empty strings as unset and parse lists', () => {
    const c = HeraldConfig.from({
      PORT: '',
      CORS_ORIGINS: 'https://a.example, https://b.example,',
    });
    expect(c.PORT).toBe(3000);
    expect(c.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });
});

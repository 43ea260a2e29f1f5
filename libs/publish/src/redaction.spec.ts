import { describe, expect, it } from 'vitest';
import { REDACTED, serializeRedacted } from './redaction';

describe('serializeRedacted', () => {
  const keys = new Set(['password', 'card_number', 'token']);

  it('should redact matching keys case-insensitively at any depth, inside arrays too', () => {
    const value = {
      user: 'u',
      Password: 'p',
      nested: { deeper: { CARD_NUMBER: '4111' } },
      list: [{ token: 't', keep: 1 }, 'password'],
    };
    expect(JSON.parse(serializeRedacted(value, keys))).toEqual({
      user: 'u',
      Password: REDACTED,
      nested: { deeper: { CARD_NUMBER: REDACTED } },
      list: [{ token: REDACTED, keep: 1 }, 'password'],
    });
  });

  it('should redact a whole object or array under a sensitive key', () => {
    expect(JSON.parse(serializeRedacted({ token: { a: 1 }, password: [1, 2] }, keys))).toEqual({
      token: REDACTED,
      password: REDACTED,
    });
  });

  it('should leave non-objects and unrelated keys as plain JSON', () => {
    expect(serializeRedacted('password', keys)).toBe('"password"');
    expect(serializeRedacted([1, null, true], keys)).toBe('[1,null,true]');
    expect(serializeRedacted({ passwords: 1 }, keys)).toBe('{"passwords":1}');
  });
});

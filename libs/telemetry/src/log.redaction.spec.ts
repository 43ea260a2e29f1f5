import { describe, expect, it } from 'vitest';
import { LOG_REDACTED, LogScrubber } from './log.redaction';

describe('LogScrubber', () => {
  const scrubber = new LogScrubber(['password', 'card_number', 'API_KEY']);

  it('should scrub bearer tokens, JWTs and secret query values when they appear in text', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const text = scrubber.text(
      `GET /events?topic=a&access_token=abc123&x=1 Authorization: Bearer tok.en-1 raw ${jwt} password=hunter2 "card_number":"4111" api_key%3Dk1`,
    );
    for (const secret of ['abc123', 'tok.en-1', jwt, 'hunter2', '4111', 'k1']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain(`access_token=${LOG_REDACTED}&x=1`);
    expect(text).toContain(`Authorization: ${LOG_REDACTED}`);
    expect(scrubber.text('sent Bearer abc.def')).toBe(`sent Bearer ${LOG_REDACTED}`);
    expect(text).toContain('topic=a');
  });

  it('should redact secret keys at any depth and inside arrays when given objects', () => {
    const out = scrubber.value({
      user: 'ann',
      Password: 'p1',
      nested: { list: [{ card_number: 'c1', ok: 1 }], headers: { authorization: 'Bearer z' } },
      cookie: 'herald_token=t1',
    });
    expect(out).toEqual({
      user: 'ann',
      Password: LOG_REDACTED,
      nested: {
        list: [{ card_number: LOG_REDACTED, ok: 1 }],
        headers: { authorization: LOG_REDACTED },
      },
      cookie: LOG_REDACTED,
    });
  });

  it('should scrub error messages and stacks when given an Error', () => {
    const out = scrubber.value(new Error('failed for access_token=s3cr3t')) as Record<
      string,
      string
    >;
    expect(out.message).not.toContain('s3cr3t');
    expect(out.stack).not.toContain('s3cr3t');
  });

  it('should leave ordinary text untouched when it holds no secret', () => {
    expect(scrubber.text('stream opened on orders/42 by 10.0.0.1')).toBe(
      'stream opened on orders/42 by 10.0.0.1',
    );
  });
});

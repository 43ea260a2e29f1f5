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

  it('should redact a value by its decoded name when a URL encodes the name', () => {
    const secret = 'ewogICJhbGciOiAiSFMyNTYiCn0.cGF5bG9hZA.c2ln';
    for (const name of [
      'access_token',
      'access_%74oken',
      '%61ccess_token',
      '%61%63%63%65%73%73%5F%74%6F%6B%65%6E',
      'ACCESS_TOKEN',
      'access_token%00',
      'access_token+',
      'access_%2574oken',
      'access_%252574oken',
      'x-api-key',
      'Password',
    ]) {
      const out = scrubber.url(`/events?topic=a%2Fb&${name}=${secret}&x=1`);
      expect(out, name).toBe(`/events?topic=a%2Fb&${name}=${LOG_REDACTED}&x=1`);
    }
    // A value whose decoded text is a bearer credential or a JWT goes whole, whatever its name.
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const encoded = [...jwt].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    expect(scrubber.url(`/e?next=${encoded}&n=Bearer+abc`)).toBe(
      `/e?next=${LOG_REDACTED}&n=${LOG_REDACTED}`,
    );
    expect(scrubber.url(`/${jwt}/x?topic=t`)).toBe(`/${LOG_REDACTED}/x?topic=t`);
    expect(scrubber.url('/events?topic=orders/42&lastEventId=m.abc.12')).toBe(
      '/events?topic=orders/42&lastEventId=m.abc.12',
    );
  });

  it('should take the whole credential after Bearer when it holds characters outside base64', () => {
    expect(scrubber.text('Authorization=Bearer ab%cd!ef next')).not.toContain('cd!ef');
    expect(scrubber.text('auth bearer\tx/y+z==')).toBe(`auth bearer ${LOG_REDACTED}`);
  });
});

/** `unit` repeated to exactly `length` characters. */
const fill = (unit: string, length: number) =>
  unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

/**
 * Inputs built to make a backtracking scrubber explode (the old JWT pattern took about 0.25 s on
 * a 16 KB run of `eyJ`), each with the prefix a logger would see.
 */
const ADVERSARIAL: Readonly<Record<string, (length: number) => string>> = {
  'eyJ repeated': (n) => fill('eyJ', n),
  'eyJ. repeated': (n) => fill('eyJ.', n),
  'a JWT head then eyJ': (n) => `eyJhbGciOi.${fill('eyJ', n - 11)}`,
  'JWT-shaped segments': (n) => fill('eyJaaaaa.b.', n),
  'one long base64url run': (n) => fill('Ab0_-', n),
  'eyJ then base64url': (n) => `eyJ${fill('A', n - 3)}`,
  'dots only': (n) => fill('.', n),
  'many dots': (n) => fill('a.', n),
  'eyJ and dots': (n) => fill('eyJxxxxx..', n),
  'Bearer repeated': (n) => fill('Bearer ', n),
  'bearer then spaces': (n) => `bearer${fill(' ', n - 6)}`,
  'token= repeated': (n) => fill('token=', n),
  'token, spaces, =': (n) => `token${fill(' ', n - 6)}=`,
  'encoded separators': (n) => fill('access_token%3D', n),
  'percent signs': (n) => fill('%', n),
  'double-encoded percent': (n) => fill('%25', n),
  'equals signs': (n) => fill('=', n),
  colons: (n) => fill(':', n),
  'JSON keys': (n) => fill('"token":', n),
  'encoded quotes': (n) => fill('%22token%22%3A', n),
  'short pairs': (n) => fill('a=', n),
  'long name before a secret': (n) => `${fill('x', n - 7)}token=v`,
  'spaces after a key': (n) => `password${fill(' ', n - 8)}`,
};

describe('LogScrubber work', () => {
  const LENGTH = 16_384;
  const scrubber = new LogScrubber(['password', 'secret', 'token', 'api_key', 'card_number']);
  /** Steps `scrubber` spends on `input` through `how`. */
  const work = (how: 'text' | 'url', input: string): number => {
    const before = scrubber.steps;
    scrubber[how](how === 'url' ? `/?${input}` : input);
    return scrubber.steps - before;
  };

  for (const how of ['text', 'url'] as const) {
    it(`should examine each character a bounded number of times when ${how}() gets adversarial input`, () => {
      const control = work(how, 'a'.repeat(LENGTH));
      expect(control).toBeGreaterThanOrEqual(LENGTH);
      for (const [name, make] of Object.entries(ADVERSARIAL)) {
        const input = make(LENGTH);
        expect(input.length, name).toBe(LENGTH);
        const steps = work(how, input);
        // Linear: a few steps per character, and within a small factor of the `a` control...
        expect(steps, name).toBeLessThanOrEqual(8 * LENGTH);
        expect(steps, name).toBeLessThanOrEqual(2 * control);
        // ...and twice the input costs twice the work (a quadratic scan would cost four times).
        const doubled = work(how, make(2 * LENGTH));
        expect(doubled / steps, name).toBeLessThanOrEqual(2.05);
      }
    });
  }

  it('should still scrub the token-like parts when they sit inside adversarial runs', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const out = scrubber.text(`${fill('eyJ', 6000)}/${jwt}/${fill('eyJ.', 6000)} token=${jwt}`);
    expect(out).not.toContain(jwt);
    expect(out).not.toContain('c2ln');
    expect(out).toContain(`/${LOG_REDACTED}/`);
    expect(out.endsWith(` token=${LOG_REDACTED}`)).toBe(true);
    expect(scrubber.text(fill('eyJaaaaa.b.', 99))).toBe(LOG_REDACTED);
  });
});

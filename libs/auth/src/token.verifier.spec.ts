import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuthModuleOptions } from './auth.options';
import { TokenRejectedError, TokenVerifier } from './token.verifier';
import { VerifiedTokenCache } from './verified.token.cache';

const SECRET = 's'.repeat(40);
const key = new TextEncoder().encode(SECRET);

function verifier(extra: Partial<AuthModuleOptions> = {}): TokenVerifier {
  return new TokenVerifier({
    key: { driver: 'secret', secret: SECRET },
    algorithms: ['HS256', 'HS384', 'HS512'],
    permissionsClaim: 'herald',
    cookieName: 'herald_token',
    queryToken: false,
    anonymousTopics: [],
    clockToleranceS: 0,
    ...extra,
  });
}

interface SignOptions {
  alg?: string;
  /** `null`: no `exp` claim. */
  exp?: string | number | null;
  header?: Record<string, unknown>;
}

const sign = (
  claims: Record<string, unknown> = {},
  { alg = 'HS256', exp = '1h', header = {} }: SignOptions = {},
) => {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, ...header })
    .setSubject('u1')
    .setIssuedAt();
  if (exp !== null) jwt.setExpirationTime(exp);
  return jwt.sign(key);
};

const rejection = async (token: string, v = verifier()) => {
  const err = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenRejectedError);
  return (err as Error).message;
};

describe('TokenVerifier, HMAC path', () => {
  it('should verify an HMAC token synchronously with verifyNow, and throw its refusals', async () => {
    const payload = verifier().verifyNow(await sign({ herald: { subscribe: ['a'] } }));
    expect(payload).not.toBeInstanceOf(Promise);
    expect(payload).toMatchObject({ sub: 'u1' });
    const forged = `${(await sign()).slice(0, -2)}xx`;
    expect(() => verifier().verifyNow(forged)).toThrow(TokenRejectedError);
  });

  it('should accept HS256, HS384 and HS512 tokens and return their claims', async () => {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const payload = await verifier().verify(
        await sign({ herald: { subscribe: ['a'] } }, { alg }),
      );
      expect(payload).toMatchObject({ sub: 'u1', herald: { subscribe: ['a'] } });
    }
  });

  it('should refuse a token signed with another secret, or with a changed payload', async () => {
    const other = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('o'.repeat(40)));
    expect(await rejection(other)).toBe('token signature invalid');
    const [h, , s] = (await sign()).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', exp: 9e9 })).toString('base64url');
    expect(await rejection(`${h}.${forged}.${s}`)).toBe('token signature invalid');
  });

  it('should refuse a non-canonical or truncated signature and a malformed token', async () => {
    const token = await sign();
    expect(await rejection(`${token}=`)).toBe('token signature invalid');
    expect(await rejection(token.slice(0, -2))).toBe('token signature invalid');
    expect(await rejection(`${token}.x`)).toBe('malformed token');
  });

  it('should check the claims as jose does: exp required and honoured, nbf, iss, aud', async () => {
    expect(await rejection(await sign({}, { exp: Math.floor(Date.now() / 1000) - 10 }))).toBe(
      'token expired',
    );
    expect(await rejection(await sign({}, { exp: null }))).toMatch(/exp/);
    const early = await sign({ nbf: Math.floor(Date.now() / 1000) + 600 });
    expect(await rejection(early)).toBe('token claim "nbf" check failed');
    const strict = verifier({ issuer: 'herald', audience: 'streams' });
    expect(await rejection(await sign({ iss: 'other', aud: 'streams' }), strict)).toBe(
      'token claim "iss" check failed',
    );
    expect(await rejection(await sign({ iss: 'herald', aud: 'other' }), strict)).toBe(
      'token claim "aud" check failed',
    );
    await expect(
      strict.verify(await sign({ iss: 'herald', aud: 'streams' })),
    ).resolves.toMatchObject({ sub: 'u1' });
  });

  it('should refuse algorithms not configured and crit headers', async () => {
    expect(
      await rejection(await sign({}, { alg: 'HS512' }), verifier({ algorithms: ['HS256'] })),
    ).toBe('token algorithm not accepted');
    const crit = await sign({}, { header: { crit: ['b64'], b64: true } });
    expect(await rejection(crit)).toMatch(/crit/);
  });

  it('should keep verifying asymmetric tokens with jose', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const v = verifier({
      key: {
        driver: 'public-key',
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
      algorithms: ['EdDSA'],
    });
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject('u2')
      .setExpirationTime('1h')
      .sign(privateKey);
    await expect(v.verify(token)).resolves.toMatchObject({ sub: 'u2' });
    const [h, p] = token.split('.');
    expect(await rejection(`${h}.${p}.${'A'.repeat(86)}`, v)).toBe('token signature invalid');
  });
});

describe('TokenVerifier, verified tokens remembered', () => {
  afterEach(() => vi.useRealTimers());

  const at = (iso: string) => vi.setSystemTime(new Date(iso));

  it('should refuse a remembered token once its exp passes, exactly as a first verification', async () => {
    vi.useFakeTimers();
    at('2030-01-01T00:00:00.000Z');
    const exp = Math.floor(Date.now() / 1000) + 10;
    const token = await sign({}, { exp });
    const v = verifier();
    expect(v.verifyNow(token)).toMatchObject({ sub: 'u1', exp });
    at('2030-01-01T00:00:09.999Z');
    expect(v.verifyNow(token)).toMatchObject({ exp });
    at('2030-01-01T00:00:10.000Z'); // exp <= now: expired, for the remembered and a fresh verifier
    expect(() => v.verifyNow(token)).toThrow('token expired');
    expect(() => verifier().verifyNow(token)).toThrow('token expired');
  });

  it('should honour the clock tolerance and nbf on a remembered token as jose does', async () => {
    vi.useFakeTimers();
    at('2030-01-01T00:00:00.000Z');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setNotBefore(now + 5)
      .setExpirationTime(now + 20)
      .sign(key);
    const v = verifier({ clockToleranceS: 5 });
    expect(v.verifyNow(token)).toMatchObject({ sub: 'u1' }); // nbf within tolerance
    at('2030-01-01T00:00:24.999Z');
    expect(v.verifyNow(token)).toMatchObject({ sub: 'u1' }); // exp + tolerance not reached
    at('2030-01-01T00:00:25.000Z');
    expect(() => v.verifyNow(token)).toThrow('token expired');

    const strict = verifier();
    at('2030-01-01T00:00:05.000Z');
    expect(strict.verifyNow(token)).toMatchObject({ sub: 'u1' }); // remembered from here on
    at('2030-01-01T00:00:04.000Z'); // the clock stepped back: nbf is checked on every hit
    expect(() => strict.verifyNow(token)).toThrow('token claim "nbf" check failed');
    expect(() => verifier().verifyNow(token)).toThrow('token claim "nbf" check failed');
  });

  it('should match only the exact token: a forged or altered copy is verified, and refused', async () => {
    const v = verifier();
    const token = await sign({ herald: { subscribe: ['a'] } });
    const first = v.verifyNow(token);
    expect(v.verifyNow(token)).toBe(first); // the shared, frozen claims
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => v.verifyNow(`${token.slice(0, -2)}xx`)).toThrow('token signature invalid');
    expect(() => v.verifyNow(`${token} `)).toThrow(TokenRejectedError);
    const other = await sign({ herald: { subscribe: ['b'] } });
    expect(v.verifyNow(other)).toMatchObject({ herald: { subscribe: ['b'] } });
  });

  it('should stay bounded, forgetting the oldest token first', async () => {
    const v = verifier();
    const tokens = await Promise.all(Array.from({ length: 1030 }, (_, i) => sign({ n: i })));
    tokens.forEach((t, i) => expect(v.verifyNow(t)).toMatchObject({ n: i }));
    expect((v as unknown as { verified: { size: number } }).verified.size).toBe(1024);
    // Forgotten or not, every token still verifies to its own claims.
    expect(v.verifyNow(tokens[0])).toMatchObject({ n: 0 });
    expect(v.verifyNow(tokens[1029])).toMatchObject({ n: 1029 });

    const cache = new VerifiedTokenCache(2, 0);
    const claims = (n: number) => ({ n, exp: 2_000_000_000 });
    cache.set('a', claims(1));
    cache.set('b', claims(2));
    cache.set('c', claims(3));
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('b', 0)).toMatchObject({ n: 2 });
    expect(cache.get('c', 0)).toMatchObject({ n: 3 });
    expect(cache.get('c', 2_000_000_000_000)).toBe('expired'); // and forgotten
    expect(cache.get('c', 0)).toBeUndefined();
  });

  it('should not remember a token over 2,048 characters, and freeze nested claims', async () => {
    const v = verifier();
    const size = () => (v as unknown as { verified: { size: number } }).verified.size;
    const long = await sign({ pad: 'x'.repeat(2100) });
    expect(v.verifyNow(long)).toMatchObject({ pad: 'x'.repeat(2100) });
    expect(size()).toBe(0);
    const token = await sign({ herald: { subscribe: ['a'] } });
    expect(v.verifyNow(token)).toMatchObject({ sub: 'u1' });
    expect(size()).toBe(1);
    const claims = v.verifyNow(token) as { herald: { subscribe: string[] } };
    expect(Object.isFrozen(claims.herald)).toBe(true);
    expect(() => claims.herald.subscribe.push('b')).toThrow(TypeError);
    expect(v.verifyNow(token)).toMatchObject({ herald: { subscribe: ['a'] } });
  });

  it('should not remember a refused token', async () => {
    const v = verifier({ issuer: 'herald' });
    const token = await sign();
    expect(() => v.verifyNow(token)).toThrow('token claim "iss" check failed');
    expect(() => v.verifyNow(token)).toThrow('token claim "iss" check failed');
    expect((v as unknown as { verified: { size: number } }).verified.size).toBe(0);
  });
});

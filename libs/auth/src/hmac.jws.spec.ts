import { createSecretKey } from 'node:crypto';
import { SignJWT, errors } from 'jose';
import { describe, expect, it } from 'vitest';
import { HmacJwsError, isHmacJws, verifyHmacJws } from './hmac.jws';

const secret = new TextEncoder().encode('a-shared-secret-of-enough-length-0123');
const key = createSecretKey(Buffer.from(secret));
const sign = (alg: string, exp = '1h') =>
  new SignJWT({ sub: 'u' }).setProtectedHeader({ alg }).setExpirationTime(exp).sign(secret);

describe('verifyHmacJws', () => {
  it('returns the claims of a valid HS256/384/512 token', async () => {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const payload = verifyHmacJws(await sign(alg), { alg }, key, {});
      expect(payload.sub).toBe('u');
    }
  });

  it('refuses a wrong MAC, a malformed token and crit/b64 headers with its own reasons', async () => {
    const token = await sign('HS256');
    const bad = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(() => verifyHmacJws(bad, { alg: 'HS256' }, key, {})).toThrow(
      expect.objectContaining({ reason: 'signature' }),
    );
    expect(() => verifyHmacJws('a.b', { alg: 'HS256' }, key, {})).toThrow(
      expect.objectContaining({ reason: 'malformed' }),
    );
    expect(() =>
      verifyHmacJws(token, { alg: 'HS256', crit: ['x'] } as { alg: string }, key, {}),
    ).toThrow(HmacJwsError);
    expect(() => verifyHmacJws(token, { alg: 'RS256' }, key, {})).toThrow(
      expect.objectContaining({ reason: 'header' }),
    );
  });

  it("lets jose's claim errors through, as jwtVerify throws them", async () => {
    const expired = await sign('HS256', '-10s');
    expect(() => verifyHmacJws(expired, { alg: 'HS256' }, key, {})).toThrow(errors.JWTExpired);
    expect(() =>
      verifyHmacJws(expired, { alg: 'HS256' }, key, { clockTolerance: 60 }),
    ).not.toThrow();
  });

  it('isHmacJws: a secret key and an HS algorithm only', () => {
    expect(isHmacJws(key, 'HS256')).toBe(true);
    expect(isHmacJws(key, 'RS256')).toBe(false);
    expect(isHmacJws(key, undefined)).toBe(false);
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AuthModuleOptions } from './auth.options';
import { TokenRejectedError, TokenVerifier } from './token.verifier';

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

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { SignJWT, UnsecuredJWT } from 'jose';
import passport from 'passport';
import { describe, expect, it } from 'vitest';
import { InMemoryRevocationList } from './adapters/in-memory.revocation-list';
import { AuthError } from './auth.errors';
import type { AuthModuleOptions } from './auth.options';
import { HeraldJwtStrategy } from './jwt.strategy';
import type { Principal } from './principal';
import { RequestAuthenticator } from './request.authenticator';
import { findToken } from './token.extractor';
import { TokenRejectedError, TokenVerifier } from './token.verifier';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes!';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function optionsFor(kind: 'secret' | 'public-key'): AuthModuleOptions {
  return {
    key:
      kind === 'secret'
        ? { driver: 'secret', secret: SECRET }
        : {
            driver: 'public-key',
            publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          },
    algorithms: kind === 'secret' ? ['HS256'] : ['ES256'],
    permissionsClaim: 'herald',
    cookieName: 'herald_token',
    queryToken: false,
    anonymousTopics: [],
    issuer: 'herald-tests',
  };
}

function request(authorization: string): [IncomingMessage, ServerResponse] {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/events?topic=a';
  req.headers = { authorization };
  return [req, new ServerResponse(req)];
}

/** The outcome as the authenticator had it through passport before: principal or message. */
function viaPassport(strategy: HeraldJwtStrategy, options: AuthModuleOptions, jwt: string) {
  const [req, res] = request(`Bearer ${jwt}`);
  findToken(req, options.cookieName, options.queryToken);
  const instance = new passport.Passport();
  return new Promise<string>((resolve) => {
    const middleware = instance.authenticate(
      Object.create(strategy) as HeraldJwtStrategy,
      { session: false },
      (err: unknown, user: Principal | false, info: unknown) => {
        if (err) resolve(err instanceof AuthError ? err.message : 'invalid token');
        else if (!user)
          resolve(info instanceof TokenRejectedError ? info.message : 'invalid token');
        else resolve(`ok ${user.sub ?? ''} ${user.expiresAt ?? ''}`);
      },
    ) as (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
    middleware(req, res, () => resolve('next'));
  });
}

async function direct(authenticator: RequestAuthenticator, jwt: string): Promise<string> {
  const [req, res] = request(`Bearer ${jwt}`);
  try {
    const user = await authenticator.authenticate(req, res, false);
    return `ok ${user.sub ?? ''} ${user.expiresAt ?? ''}`;
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    return (err as Error).message;
  }
}

const now = () => Math.floor(Date.now() / 1000);

function tokens(kind: 'secret' | 'public-key'): Promise<Record<string, string>> {
  const key: KeyObject | Uint8Array =
    kind === 'secret' ? new TextEncoder().encode(SECRET) : privateKey;
  const alg = kind === 'secret' ? 'HS256' : 'ES256';
  const base = (claims: Record<string, unknown> = {}) =>
    new SignJWT({ herald: { subscribe: ['a'] }, ...claims })
      .setProtectedHeader({ alg })
      .setSubject('u1')
      .setIssuer('herald-tests')
      .setIssuedAt();
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  return (async () => ({
    valid: await base().setExpirationTime('1h').sign(key),
    expired: await base()
      .setIssuedAt(now() - 600)
      .setExpirationTime(now() - 300)
      .sign(key),
    notYet: await base()
      .setNotBefore(now() + 600)
      .setExpirationTime('1h')
      .sign(key),
    wrongIssuer: await base().setIssuer('other').setExpirationTime('1h').sign(key),
    noExp: await base().sign(key),
    otherKey:
      kind === 'secret'
        ? await base()
            .setExpirationTime('1h')
            .sign(new TextEncoder().encode(`${SECRET}-other`))
        : await base().setExpirationTime('1h').sign(other),
    // Algorithm confusion: an HMAC token keyed with the public key's PEM, and the reverse.
    confused:
      kind === 'secret'
        ? await new SignJWT({})
            .setProtectedHeader({ alg: 'ES256' })
            .setExpirationTime('1h')
            .sign(other)
        : await new SignJWT({})
            .setProtectedHeader({ alg: 'HS256' })
            .setExpirationTime('1h')
            .sign(
              new TextEncoder().encode(
                publicKey.export({ type: 'spki', format: 'pem' }).toString(),
              ),
            ),
    none: new UnsecuredJWT({}).setExpirationTime('1h').encode(),
    malformed: 'not.a.jwt',
    tooLarge: `${'a'.repeat(9000)}.b.c`,
  }))();
}

describe.each(['secret', 'public-key'] as const)(
  'RequestAuthenticator without passport (%s key)',
  (kind) => {
    it('should accept and refuse exactly as the strategy through passport did', async () => {
      const options = optionsFor(kind);
      const verifier = new TokenVerifier(options);
      const strategy = new HeraldJwtStrategy(verifier, options);
      const authenticator = new RequestAuthenticator(
        strategy,
        verifier,
        new InMemoryRevocationList(),
        options,
      );
      const cases = await tokens(kind);
      const seen: Record<string, [string, string]> = {};
      for (const [name, jwt] of Object.entries(cases)) {
        seen[name] = [await direct(authenticator, jwt), await viaPassport(strategy, options, jwt)];
      }
      for (const [name, [now, before]] of Object.entries(seen)) {
        expect(`${name}: ${now}`).toBe(`${name}: ${before}`);
      }
      expect(seen.valid[0]).toMatch(/^ok u1 \d+$/);
      expect(seen.expired[0]).toBe('token expired');
      expect(seen.notYet[0]).toBe('token claim "nbf" check failed');
      expect(seen.confused[0]).toBe('token algorithm not accepted');
      expect(seen.none[0]).toBe('token algorithm not accepted');
    });
  },
);

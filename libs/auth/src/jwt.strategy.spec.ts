import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { SignJWT } from 'jose';
import passport from 'passport';
import { describe, expect, it } from 'vitest';
import type { AuthModuleOptions } from './auth.options';
import { HeraldJwtStrategy } from './jwt.strategy';
import type { Principal } from './principal';
import { findToken } from './token.extractor';
import { TokenRejectedError, TokenVerifier } from './token.verifier';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes!';

const options: AuthModuleOptions = {
  key: { driver: 'secret', secret: SECRET },
  algorithms: ['HS256'],
  permissionsClaim: 'herald',
  cookieName: 'herald_token',
  queryToken: false,
  anonymousTopics: [],
};

function request(authorization?: string): [IncomingMessage, ServerResponse] {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/events?topic=a';
  req.headers = authorization === undefined ? {} : { authorization };
  // The strategy reads the token the authenticator found (extracted once per request).
  findToken(req, options.cookieName, options.queryToken);
  return [req, new ServerResponse(req)];
}

type Outcome = { user: Principal | false; info: unknown };

/** Runs the strategy as passport (and so `AuthGuard`) does: `passport.authenticate(strategy)`. */
function viaPassport(strategy: HeraldJwtStrategy, authorization?: string): Promise<Outcome> {
  const [req, res] = request(authorization);
  const instance = new passport.Passport();
  return new Promise((resolve, reject) => {
    const middleware = instance.authenticate(
      Object.create(strategy) as HeraldJwtStrategy,
      { session: false },
      (err: unknown, user: Principal | false, info: unknown) => {
        if (err) reject(err instanceof Error ? err : new Error('passport error'));
        else resolve({ user, info });
      },
    ) as (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
    middleware(req, res, (err?: unknown) =>
      reject(err instanceof Error ? err : new Error('next called')),
    );
  });
}

describe('HeraldJwtStrategy through passport', () => {
  const strategy = new HeraldJwtStrategy(new TokenVerifier(options), options);

  it('should authenticate a valid token into the principal its validate maps', async () => {
    const jwt = await new SignJWT({ herald: { subscribe: ['orders/*'] } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    const { user } = await viaPassport(strategy, `Bearer ${jwt}`);
    expect(user).toMatchObject({ sub: 'alice', anonymous: false, admin: false });
    expect(user && user.subscribe.map((f) => f.raw)).toEqual(['orders/*']);
  });

  it('should fail a token with a bad signature with the verifier reason as info', async () => {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(`${SECRET}-other`));
    const { user, info } = await viaPassport(strategy, `Bearer ${jwt}`);
    expect(user).toBe(false);
    expect(info).toBeInstanceOf(TokenRejectedError);
    expect((info as Error).message).toBe('token signature invalid');
  });

  it('should fail a request without a token', async () => {
    const { user, info } = await viaPassport(strategy);
    expect(user).toBe(false);
    expect((info as Error).message).toBe('No auth token');
  });
});

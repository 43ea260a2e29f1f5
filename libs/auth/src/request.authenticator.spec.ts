import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { InMemoryRevocationList } from './adapters/in-memory.revocation-list';
import { AuthError, AuthErrorCode } from './auth.errors';
import type { AuthModuleOptions } from './auth.options';
import { HeraldJwtStrategy } from './jwt.strategy';
import {
  PRINCIPAL,
  RequestAuthenticator,
  type AuthenticatedRequest,
} from './request.authenticator';
import { TokenVerifier } from './token.verifier';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes!';

function setup(overrides: Partial<AuthModuleOptions> = {}) {
  const options: AuthModuleOptions = {
    key: { driver: 'secret', secret: SECRET },
    algorithms: ['HS256'],
    permissionsClaim: 'herald',
    cookieName: 'herald_token',
    queryToken: false,
    anonymousTopics: [],
    ...overrides,
  };
  const verifier = new TokenVerifier(options);
  const revocations = new InMemoryRevocationList();
  const authenticator = new RequestAuthenticator(
    new HeraldJwtStrategy(verifier, options),
    verifier,
    revocations,
    options,
  );
  return { authenticator, revocations };
}

async function token(
  claims: Record<string, unknown>,
  options: { sub?: string; expiresIn?: string; iat?: number; alg?: string } = {},
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setExpirationTime(options.expiresIn ?? '1h');
  if (options.iat !== undefined) jwt.setIssuedAt(options.iat);
  else jwt.setIssuedAt();
  if (options.sub !== undefined) jwt.setSubject(options.sub);
  return jwt.sign(new TextEncoder().encode(SECRET));
}

function request(headers: Record<string, string> = {}): [IncomingMessage, ServerResponse] {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/events?topic=a';
  req.headers = headers;
  return [req, new ServerResponse(req)];
}

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  return err as AuthError;
}

describe('RequestAuthenticator', () => {
  it('should store the principal of a valid bearer token with its grants and times', async () => {
    const { authenticator } = setup();
    const jwt = await token({ herald: { subscribe: ['orders/*'], admin: true } }, { sub: 'alice' });
    const [req, res] = request({ authorization: `Bearer ${jwt}` });
    const principal = await authenticator.authenticate(req, res, false);
    expect(principal).toMatchObject({ sub: 'alice', anonymous: false, admin: true });
    expect(principal.subscribe.map((f) => f.raw)).toEqual(['orders/*']);
    expect(principal.expiresAt).toBeGreaterThan(Date.now());
    expect((req as AuthenticatedRequest)[PRINCIPAL]).toBe(principal);
  });

  it('should read the token from the cookie when there is no Authorization header', async () => {
    const { authenticator } = setup();
    const jwt = await token({}, { sub: 'bob' });
    const [req, res] = request({ cookie: `other=1; herald_token=${jwt}` });
    expect((await authenticator.authenticate(req, res, false)).sub).toBe('bob');
  });

  it('should refuse a request without a token as missing-token when not optional', async () => {
    const { authenticator } = setup();
    const [req, res] = request();
    const err = await refusal(authenticator.authenticate(req, res, false));
    expect(err.code).toBe(AuthErrorCode.MissingToken);
  });

  it('should give the anonymous principal when the token is optional and absent', async () => {
    const { authenticator } = setup({ anonymousTopics: ['public/**'] });
    const [req, res] = request();
    const principal = await authenticator.authenticate(req, res, true);
    expect(principal).toMatchObject({ sub: undefined, anonymous: true, admin: false });
    expect(principal.subscribe.map((f) => f.raw)).toEqual(['public/**']);
  });

  it('should refuse a token signed with another key as invalid-token, naming why', async () => {
    const { authenticator } = setup();
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-another-secret-another'));
    const [req, res] = request({ authorization: `Bearer ${forged}` });
    const err = await refusal(authenticator.authenticate(req, res, false));
    expect(err.code).toBe(AuthErrorCode.InvalidToken);
    expect(err.message).toBe('token signature invalid');
    expect(err.message).not.toContain(forged);
  });

  it('should refuse an expired token and one whose algorithm is not accepted', async () => {
    const { authenticator } = setup();
    const expired = await token({}, { expiresIn: '-1m', iat: Math.floor(Date.now() / 1000) - 600 });
    const [req, res] = request({ authorization: `Bearer ${expired}` });
    expect((await refusal(authenticator.authenticate(req, res, false))).message).toBe(
      'token expired',
    );
    const hs512 = await token({}, { alg: 'HS512' });
    const [req2, res2] = request({ authorization: `Bearer ${hs512}` });
    expect((await refusal(authenticator.authenticate(req2, res2, false))).message).toBe(
      'token algorithm not accepted',
    );
  });

  it('should refuse a token of a subject revoked after it was issued', async () => {
    const { authenticator, revocations } = setup();
    const issuedAt = Math.floor(Date.now() / 1000) - 60;
    const jwt = await token({}, { sub: 'mallory', iat: issuedAt });
    await revocations.revoke('mallory', Date.now());
    const [req, res] = request({ authorization: `Bearer ${jwt}` });
    expect((await refusal(authenticator.authenticate(req, res, false))).code).toBe(
      AuthErrorCode.Revoked,
    );
  });

  it('should ask an uploading client to close the connection when it refuses the request', async () => {
    const { authenticator } = setup();
    const [req, res] = request({ 'content-length': '10' });
    await refusal(authenticator.authenticate(req, res, false));
    expect(res.getHeader('connection')).toBe('close');
  });
});

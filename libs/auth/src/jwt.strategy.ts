import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { JWTPayload } from 'jose';
import passport from 'passport';
import { Strategy as JwtStrategy } from 'passport-jwt';
import type { TopicFilter } from '@herald/topics';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition';
import type { AuthModuleOptions } from './auth.options';
import { compileAnonymous, compileGrants, type GrantsClaim, type Principal } from './principal';
import { extractToken } from './token.extractor';
import { TokenVerifier } from './token.verifier';

type Verifier = (
  token: string,
  key: unknown,
  options: unknown,
  callback: (err: Error | null, payload?: unknown) => void,
) => void;

/**
 * passport-jwt verifies with `jsonwebtoken` (no EdDSA, trusts more of the header than needed).
 * Its `JwtVerifier` hook is replaced once by a delegate: when the "key" handed over by our
 * `secretOrKeyProvider` is a {@link TokenVerifier}, `jose` verifies; anything else keeps the
 * original behaviour, so other passport-jwt users in the process are unaffected.
 */
const strategyStatics = JwtStrategy as unknown as { JwtVerifier: Verifier };
const originalVerifier = strategyStatics.JwtVerifier;
strategyStatics.JwtVerifier = (token, key, options, callback) => {
  if (!(key instanceof TokenVerifier)) {
    originalVerifier(token, key, options, callback);
    return;
  }
  key.verify(token).then(
    (payload) => callback(null, payload),
    (err: Error) => callback(err),
  );
};

/**
 * The `herald-jwt` passport strategy: finds the token (header, cookie, query), verifies it with
 * {@link TokenVerifier}, and turns its claims into a {@link Principal}. Each instance registers in
 * its own `Passport` so several gateways in one process (tests) never share a strategy.
 */
@Injectable()
export class HeraldJwtStrategy extends PassportStrategy(JwtStrategy, 'herald-jwt') {
  private readonly claim: string;
  private readonly anonymous: readonly TopicFilter[];

  constructor(verifier: TokenVerifier, @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions) {
    super({
      jwtFromRequest: (req: IncomingMessage) =>
        extractToken(req, options.cookieName, options.queryToken)?.token ?? null,
      secretOrKeyProvider: (
        _req: unknown,
        _token: unknown,
        done: (err: Error | null, key?: unknown) => void,
      ) => done(null, verifier),
    } as unknown as ConstructorParameters<typeof JwtStrategy>[0]);
    this.claim = options.permissionsClaim;
    this.anonymous = compileAnonymous(options.anonymousTopics);
  }

  /** A private registry: see the class comment. */
  getPassportInstance(): passport.Authenticator {
    return new passport.Passport();
  }

  /** Maps verified claims to a {@link Principal} (passport's `validate`). */
  validate(payload: JWTPayload): Principal {
    const sub = typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : undefined;
    const raw = payload[this.claim];
    const grants: GrantsClaim =
      raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw : {};
    return {
      sub,
      anonymous: false,
      subscribe: [...compileGrants(grants.subscribe, sub), ...this.anonymous],
      publish: compileGrants(grants.publish, sub),
      presence: compileGrants(grants.presence, sub),
      admin: grants.admin === true,
      expiresAt: (payload.exp ?? 0) * 1000,
      issuedAt: typeof payload.iat === 'number' ? payload.iat * 1000 : undefined,
    };
  }
}

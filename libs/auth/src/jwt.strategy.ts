import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { JWTPayload } from 'jose';
import passport from 'passport';
import { Strategy as JwtStrategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import type { TopicFilter } from '@herald/topics';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition';
import type { AuthModuleOptions } from './auth.options';
import { compileAnonymous, compileGrants, type GrantsClaim, type Principal } from './principal';
import { presentedToken } from './token.extractor';
import { TokenVerifier } from './token.verifier';

/** passport-jwt's options plus the verifier that checks the token. */
type JoseJwtOptions = StrategyOptionsWithoutRequest & { readonly verifier: TokenVerifier };

type Verified = (err: unknown, user?: unknown, info?: unknown) => void;

/** What passport-jwt's `Strategy` keeps of its arguments (its own fields, in JavaScript). */
interface JwtStrategyFields {
  _jwtFromRequest(req: IncomingMessage): string | null;
  _verify(payload: JWTPayload, done: Verified): void;
}

/**
 * passport-jwt's `Strategy` verifying with `jose` ({@link TokenVerifier}) instead of its
 * `jsonwebtoken` verifier (no EdDSA, trusts more of the header than needed). Options, token
 * lookup and the verify callback stay passport-jwt's; only the verification step is this
 * class's own, so no static of passport-jwt is replaced and other passport-jwt users in the
 * process are unaffected.
 */
class JoseJwtStrategy extends JwtStrategy {
  private readonly verifier: TokenVerifier;

  constructor(options: JoseJwtOptions, verify: Verified) {
    super(options, verify as never);
    this.verifier = options.verifier;
  }

  /** As passport-jwt's: no token fails; verified claims go to the verify callback. */
  override authenticate(req: IncomingMessage): void {
    const fields = this as unknown as JwtStrategyFields;
    // passport's `fail(challenge)` reaches the authenticate callback as its `info`, as from
    // passport-jwt (the typings only declare a numeric status).
    const fail = (info: unknown): void => this.fail(info, 401);
    const token = fields._jwtFromRequest(req);
    if (!token) {
      fail(new Error('No auth token'));
      return;
    }
    this.verifier.verify(token).then((payload) => {
      try {
        fields._verify(payload, (err, user, info) => {
          if (err) this.error(err as Error);
          else if (!user) fail(info);
          else this.success(user, info);
        });
      } catch (err) {
        this.error(err as Error);
      }
    }, fail);
  }
}

/**
 * The `herald-jwt` passport strategy: takes the token the {@link RequestAuthenticator} found
 * (header, cookie, query), verifies it with {@link TokenVerifier}, and turns its claims into a
 * {@link Principal}. Each instance registers in
 * its own `Passport` so several gateways in one process (tests) never share a strategy.
 */
@Injectable()
export class HeraldJwtStrategy extends PassportStrategy(JoseJwtStrategy, 'herald-jwt') {
  private readonly claim: string;
  private readonly anonymous: readonly TopicFilter[];

  constructor(verifier: TokenVerifier, @Inject(AUTH_MODULE_OPTIONS) options: AuthModuleOptions) {
    super({
      verifier,
      // The token RequestAuthenticator found (extracted once per request).
      jwtFromRequest: (req: IncomingMessage) => presentedToken(req) ?? null,
      // Required by passport-jwt's constructor; verification is JoseJwtStrategy's.
      secretOrKeyProvider: (_req: unknown, _token: unknown, done: (err: Error) => void) =>
        done(new Error('verified by TokenVerifier')),
    });
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

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import type { TopicFilter } from '@herald/topics';
import { AuthError, AuthErrorCode } from './auth.errors';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition';
import type { AuthModuleOptions } from './auth.options';
import { HeraldJwtStrategy } from './jwt.strategy';
import { compileAnonymous, type Principal } from './principal';
import { RevocationList } from './revocation.list';
import { findToken } from './token.extractor';
import { TokenRejectedError, TokenVerifier } from './token.verifier';

/** Request property holding the {@link Principal} once a guard has run. */
export const PRINCIPAL = Symbol.for('herald.auth.principal');

/** A request a Herald guard has authenticated. */
export type AuthenticatedRequest = IncomingMessage & { [PRINCIPAL]?: Principal };

/**
 * Authenticates a request for Herald's guards and applies revocation: finds the token once,
 * verifies it with the {@link TokenVerifier} and maps its claims with the `herald-jwt` strategy's
 * own `validate`, i.e. what `passport.authenticate(HeraldJwtStrategy)` does, without passport's
 * per-request machinery (a strategy object, closures and a promise per request on the connect
 * path; an HMAC token is verified synchronously). The strategy stays a complete passport-jwt
 * strategy for `AuthGuard`/passport users (`jwt.strategy.spec.ts` runs it through passport).
 */
@Injectable()
export class RequestAuthenticator {
  private readonly anonymousTopics: readonly TopicFilter[];

  constructor(
    private readonly strategy: HeraldJwtStrategy,
    private readonly verifier: TokenVerifier,
    private readonly revocations: RevocationList,
    @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions,
  ) {
    this.anonymousTopics = compileAnonymous(options.anonymousTopics);
  }

  /**
   * Authenticates `req` and stores the principal on it.
   * @param optional when true, a request without a token gets the anonymous principal
   * (ANONYMOUS_TOPICS only); otherwise it is refused.
   * @throws AuthError `missing-token` / `invalid-token` (401), `revoked` (403).
   */
  async authenticate(
    req: IncomingMessage,
    res: ServerResponse,
    optional: boolean,
  ): Promise<Principal> {
    try {
      return await this.authenticateOrThrow(req, optional);
    } catch (err) {
      // Refused before the body was read: close afterwards instead of draining an upload.
      if (hasBody(req) && !res.headersSent) res.setHeader('Connection', 'close');
      throw err;
    }
  }

  private async authenticateOrThrow(req: IncomingMessage, optional: boolean): Promise<Principal> {
    const found = findToken(req, this.options.cookieName, this.options.queryToken);
    let principal: Principal;
    if (found === undefined) {
      if (!optional) {
        throw new AuthError(
          AuthErrorCode.MissingToken,
          'a token is required (Authorization: Bearer, cookie or access_token)',
        );
      }
      principal = this.anonymous();
    } else {
      const verified = this.principalOf(found.token);
      principal = verified instanceof Promise ? await verified : verified;
      if (
        principal.sub !== undefined &&
        (await this.revocations.isRevoked(principal.sub, principal.issuedAt))
      ) {
        throw new AuthError(AuthErrorCode.Revoked, 'token revoked');
      }
    }
    (req as AuthenticatedRequest)[PRINCIPAL] = principal;
    return principal;
  }

  /** The principal of a token-less client. */
  anonymous(): Principal {
    return {
      sub: undefined,
      anonymous: true,
      subscribe: this.anonymousTopics,
      publish: [],
      presence: [],
      admin: false,
      expiresAt: undefined,
      issuedAt: undefined,
    };
  }

  /**
   * The token's principal: the strategy's verification (TokenVerifier) and `validate`, with the
   * same refusals as through passport (`invalid-token`, or an AuthError `validate` threw).
   */
  private principalOf(token: string): Principal | Promise<Principal> {
    let payload: ReturnType<TokenVerifier['verifyNow']>;
    try {
      payload = this.verifier.verifyNow(token);
    } catch (err) {
      throw invalid(err);
    }
    if (payload instanceof Promise) {
      return payload.then(
        (claims) => this.validate(claims),
        (err: unknown) => {
          throw invalid(err);
        },
      );
    }
    return this.validate(payload);
  }

  private validate(payload: Parameters<HeraldJwtStrategy['validate']>[0]): Principal {
    let user: Principal | undefined;
    try {
      user = this.strategy.validate(payload);
    } catch (err) {
      throw err instanceof AuthError ? err : invalid(err);
    }
    if (!user) throw invalid(undefined);
    return user;
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = Number(req.headers['content-length'] ?? 0);
  return length > 0 || req.headers['transfer-encoding'] !== undefined;
}

function invalid(info: unknown): AuthError {
  const message = info instanceof TokenRejectedError ? info.message : 'invalid token';
  return new AuthError(AuthErrorCode.InvalidToken, message);
}

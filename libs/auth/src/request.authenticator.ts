import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import passport from 'passport';
import type { TopicFilter } from '@herald/topics';
import { AuthError, AuthErrorCode } from './auth.errors';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition';
import type { AuthModuleOptions } from './auth.options';
import { HeraldJwtStrategy } from './jwt.strategy';
import { compileAnonymous, type Principal } from './principal';
import { RevocationList } from './revocation.list';
import { extractToken } from './token.extractor';
import { TokenRejectedError } from './token.verifier';

/** Request property holding the {@link Principal} once a guard has run. */
export const PRINCIPAL = Symbol.for('herald.auth.principal');

/** A request a Herald guard has authenticated. */
export type AuthenticatedRequest = IncomingMessage & { [PRINCIPAL]?: Principal };

/**
 * Runs the `herald-jwt` passport strategy on a request and applies revocation. Guards share it.
 */
@Injectable()
export class RequestAuthenticator {
  private readonly passport = new passport.Passport();
  private readonly anonymousTopics: readonly TopicFilter[];

  constructor(
    private readonly strategy: HeraldJwtStrategy,
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
      return await this.authenticateOrThrow(req, res, optional);
    } catch (err) {
      // Refused before the body was read: close afterwards instead of draining an upload.
      if (hasBody(req) && !res.headersSent) res.setHeader('Connection', 'close');
      throw err;
    }
  }

  private async authenticateOrThrow(
    req: IncomingMessage,
    res: ServerResponse,
    optional: boolean,
  ): Promise<Principal> {
    const found = extractToken(req, this.options.cookieName, this.options.queryToken);
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
      principal = await this.runStrategy(req, res);
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

  private runStrategy(req: IncomingMessage, res: ServerResponse): Promise<Principal> {
    return new Promise<Principal>((resolve, reject) => {
      // A fresh object per request: passport binds success/fail onto the strategy it is given.
      const strategy = Object.create(this.strategy) as HeraldJwtStrategy;
      const middleware = this.passport.authenticate(
        strategy,
        { session: false },
        (err: unknown, user: Principal | false, info: unknown) => {
          if (err) reject(err instanceof AuthError ? err : invalid(err));
          else if (!user) reject(invalid(info));
          else resolve(user);
        },
      ) as (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
      middleware(req, res, (err?: unknown) => reject(invalid(err)));
    });
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

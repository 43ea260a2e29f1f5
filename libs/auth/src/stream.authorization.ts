import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import { StreamAuthorization, type StreamPrincipal } from '@herald/streams';
import type { TopicFilter } from '@herald/topics';
import { AuthError, AuthErrorCode } from './auth.errors';
import { PRINCIPAL, type AuthenticatedRequest } from './request.authenticator';
import { RevocationList } from './revocation.list';
import { TopicPermissionPolicy } from './topic-permission.policy';

/**
 * The streams' {@link StreamAuthorization} port: the principal `SubscriberGuard` put on the
 * request, its `subscribe` grants checked against the stream's topics, and just before the
 * stream opens, its expiry and revocation checked again.
 */
@Injectable()
export class AuthStreamAuthorization extends StreamAuthorization {
  constructor(private readonly revocations: RevocationList) {
    super();
  }

  /** @throws AuthError 401 (no guard ran, token expired, anonymous outside its topics) or 403. */
  override authorize(req: IncomingMessage, filters: readonly TopicFilter[]): StreamPrincipal {
    const principal = (req as AuthenticatedRequest)[PRINCIPAL];
    if (principal === undefined) {
      throw new AuthError(
        AuthErrorCode.MissingToken,
        'this stream route is not guarded by SubscriberGuard',
      );
    }
    TopicPermissionPolicy.assertStreamable(principal);
    TopicPermissionPolicy.assertSubscribe(principal, filters);
    return principal;
  }

  /** The principal stays with the stream's own state (sub, expiry); the request's copy goes. */
  override release(req: IncomingMessage): void {
    (req as AuthenticatedRequest)[PRINCIPAL] = undefined;
  }

  /** @throws AuthError (expired: 401, revoked) or RevocationUnavailableError. */
  override async revalidate(principal: StreamPrincipal): Promise<void> {
    if (principal.expiresAt !== undefined && principal.expiresAt <= Date.now()) {
      throw new AuthError(AuthErrorCode.InvalidToken, 'token expired');
    }
    if (
      principal.sub !== undefined &&
      (await this.revocations.isRevoked(principal.sub, principal.issuedAt))
    ) {
      throw new AuthError(AuthErrorCode.Revoked, 'token revoked');
    }
  }
}

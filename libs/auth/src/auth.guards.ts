import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AuthError, AuthErrorCode } from './auth.errors';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition';
import type { AuthModuleOptions } from './auth.options';
import { RequestAuthenticator } from './request.authenticator';

function http(ctx: ExecutionContext): [IncomingMessage, ServerResponse] {
  const h = ctx.switchToHttp();
  return [h.getRequest<IncomingMessage>(), h.getResponse<ServerResponse>()];
}

/**
 * `GET /events`: authenticates the token if any; without one, the client is anonymous when
 * ANONYMOUS_TOPICS is set (topics are checked after validation with `TopicPermissionPolicy`),
 * else refused with 401.
 */
@Injectable()
export class SubscriberGuard implements CanActivate {
  constructor(
    private readonly authenticator: RequestAuthenticator,
    @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const [req, res] = http(ctx);
    await this.authenticator.authenticate(req, res, this.options.anonymousTopics.length > 0);
    return true;
  }
}

/**
 * `POST /events`: a valid token is required (401). Topics are authorized after the body is
 * validated (`TopicPermissionPolicy.assertPublish`), so nothing is published on a 403.
 */
@Injectable()
export class PublisherGuard implements CanActivate {
  constructor(private readonly authenticator: RequestAuthenticator) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const [req, res] = http(ctx);
    await this.authenticator.authenticate(req, res, false);
    return true;
  }
}

/** Admin routes: a valid token (401) whose grants say `admin: true` (403). */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly authenticator: RequestAuthenticator) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const [req, res] = http(ctx);
    const principal = await this.authenticator.authenticate(req, res, false);
    if (!principal.admin) throw new AuthError(AuthErrorCode.NotAdmin, 'admin permission required');
    return true;
  }
}

/** The guards that count as "guarded" for the route audit. */
export const HERALD_GUARDS: readonly (abstract new (...args: never[]) => CanActivate)[] = [
  SubscriberGuard,
  PublisherGuard,
  AdminGuard,
];

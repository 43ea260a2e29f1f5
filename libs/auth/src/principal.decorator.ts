import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal } from './principal';
import { PRINCIPAL, type AuthenticatedRequest } from './request.authenticator';

/**
 * The {@link Principal} a Herald guard attached to the request.
 * @throws Error when the route has no Herald guard (a wiring bug).
 */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => {
    const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>()[PRINCIPAL];
    if (principal === undefined) throw new Error('@CurrentPrincipal() used on an unguarded route');
    return principal;
  },
);

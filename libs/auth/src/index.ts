export { AuthModule } from './auth.module';
export type {
  AuthKeyOptions,
  AuthModuleExtras,
  AuthModuleOptions,
  RevocationOptions,
} from './auth.options';
export { AuthError, AuthErrorCode, RevocationUnavailableError } from './auth.errors';
export { AdminGuard, PublisherGuard, SubscriberGuard } from './auth.guards';
export { Public } from './public.decorator';
export { CurrentPrincipal } from './principal.decorator';
export type { GrantsClaim, Principal } from './principal';
export { TopicPermissionPolicy } from './topic-permission.policy';
export { RevocationList } from './revocation.list';
export { RedisRevocationList } from './adapters/redis.revocation-list';
export type { RedisRevocationListOptions } from './adapters/redis.revocation-list';
export { PRINCIPAL } from './request.authenticator';
export type { AuthenticatedRequest } from './request.authenticator';
export { DevTokenSigner } from './token.signer';
export type { DevToken, DevTokenRequest } from './token.signer';
export { RouteAccessAuditor } from './route-access.auditor';

export { AuthModule } from './auth.module';
export { AUTH_MODULE_OPTIONS } from './auth.module-definition';
export type {
  AuthKeyOptions,
  AuthModuleExtras,
  AuthModuleOptions,
  RevocationOptions,
} from './auth.options';
export { AuthError, AuthErrorCode, RevocationUnavailableError } from './auth.errors';
export { AdminGuard, HERALD_GUARDS, PublisherGuard, SubscriberGuard } from './auth.guards';
export { Public, IS_PUBLIC } from './public.decorator';
export { CurrentPrincipal } from './principal.decorator';
export { compileGrants } from './principal';
export type { GrantsClaim, Principal } from './principal';
export { TopicPermissionPolicy } from './topic-permission.policy';
export { RevocationList } from './revocation.list';
export { InMemoryRevocationList } from './adapters/in-memory.revocation-list';
export { RedisRevocationList } from './adapters/redis.revocation-list';
export type { RedisRevocationListOptions } from './adapters/redis.revocation-list';
export { RequestAuthenticator, PRINCIPAL } from './request.authenticator';
export type { AuthenticatedRequest } from './request.authenticator';
export { TokenVerifier, TokenRejectedError } from './token.verifier';
export { HeraldJwtStrategy } from './jwt.strategy';
export { OriginMiddleware } from './origin.middleware';
export { extractToken, redactUrl, stripQueryToken } from './token.extractor';
export type { FoundToken, TokenSource } from './token.extractor';
export { DevTokenSigner } from './token.signer';
export type { DevToken, DevTokenRequest } from './token.signer';
export { RouteAccessAuditor } from './route-access.auditor';
export type { AuditedRoute, RouteAccess } from './route-access.auditor';
export { AuthStreamAuthorization } from './stream.authorization';

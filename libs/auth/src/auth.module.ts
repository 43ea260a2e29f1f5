import {
  Module,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { StreamAuthorization } from '@herald/streams';
import { InMemoryRevocationList } from './adapters/in-memory.revocation-list';
import { RedisRevocationList } from './adapters/redis.revocation-list';
import { AdminGuard, PublisherGuard, SubscriberGuard } from './auth.guards';
import { AUTH_MODULE_OPTIONS, AuthConfigurableModule } from './auth.module-definition';
import type { AuthModuleOptions } from './auth.options';
import { HeraldJwtStrategy } from './jwt.strategy';
import { QueryTokenMiddleware } from './query-token.middleware';
import { RequestAuthenticator } from './request.authenticator';
import { RevocationList } from './revocation.list';
import { RouteAccessAuditor } from './route-access.auditor';
import { AuthStreamAuthorization } from './stream.authorization';
import { DevTokenSigner } from './token.signer';
import { TokenVerifier } from './token.verifier';

/** Picks the {@link RevocationList} adapter. */
const revocationProvider: Provider = {
  provide: RevocationList,
  inject: [AUTH_MODULE_OPTIONS],
  useFactory: (options: AuthModuleOptions): RevocationList => {
    const revocation = options.revocation ?? { driver: 'memory' };
    switch (revocation.driver) {
      case 'memory':
        return new InMemoryRevocationList();
      case 'redis':
        return new RedisRevocationList(revocation);
    }
  },
};

/**
 * JWT auth for Herald (CONTRACT section 3): `AuthModule.forRootAsync({ useFactory, inject })`,
 * global. Provides the guards, the revocation list, the dev token signer and the query-token
 * middleware (applied to every route), and audits that every route is guarded or `@Public()`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    TokenVerifier,
    HeraldJwtStrategy,
    RequestAuthenticator,
    SubscriberGuard,
    PublisherGuard,
    AdminGuard,
    revocationProvider,
    DevTokenSigner,
    RouteAccessAuditor,
    AuthStreamAuthorization,
    { provide: StreamAuthorization, useExisting: AuthStreamAuthorization },
  ],
  exports: [
    StreamAuthorization,
    TokenVerifier,
    RequestAuthenticator,
    SubscriberGuard,
    PublisherGuard,
    AdminGuard,
    RevocationList,
    DevTokenSigner,
    RouteAccessAuditor,
    AUTH_MODULE_OPTIONS,
  ],
})
export class AuthModule
  extends AuthConfigurableModule
  implements NestModule, OnApplicationShutdown
{
  constructor(private readonly revocations: RevocationList) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.revocations.close();
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(QueryTokenMiddleware).forRoutes('{*path}');
  }
}

import {
  Module,
  type DynamicModule,
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
import {
  AUTH_ASYNC_OPTIONS_TYPE,
  AUTH_MODULE_OPTIONS,
  AUTH_OPTIONS_TYPE,
  AuthConfigurableModule,
} from './auth.module-definition';
import type { AuthModuleOptions } from './auth.options';
import { DevTokenController } from './dev-token.controller';
import { HeraldJwtStrategy } from './jwt.strategy';
import { OriginMiddleware } from './origin.middleware';
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
 * JWT auth for Herald (CONTRACT section 3): `AuthModule.forRootAsync({ useFactory, inject,
 * devRoutes })`. Provides the guards, the revocation list and the Origin middleware (applied to
 * every route), audits that every route is guarded or `@Public()`, and with `devRoutes` serves
 * `GET /dev/token`.
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

  static override forRoot(options: typeof AUTH_OPTIONS_TYPE): DynamicModule {
    return withDevRoutes(super.forRoot(options), options.devRoutes);
  }

  static override forRootAsync(options: typeof AUTH_ASYNC_OPTIONS_TYPE): DynamicModule {
    return withDevRoutes(super.forRootAsync(options), options.devRoutes);
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(OriginMiddleware).forRoutes('{*path}');
  }
}

function withDevRoutes(module: DynamicModule, devRoutes: boolean | undefined): DynamicModule {
  return { ...module, global: true, controllers: devRoutes ? [DevTokenController] : [] };
}

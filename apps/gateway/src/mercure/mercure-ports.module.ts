import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { MercurePublishRate } from '@herald/mercure';
import { ClientAddressModule } from '../http/client-address.module';
import { PublishRateLimiter } from '../publish/publish-rate.limiter';

/** Mercure publishers draw from the same publish bucket as `POST /events` (per sub, else IP). */
@Injectable()
export class GatewayMercurePublishRate extends MercurePublishRate {
  constructor(private readonly limiter: PublishRateLimiter) {
    super();
  }

  charge(
    req: IncomingMessage,
    res: ServerResponse,
    sub: string | undefined,
    events: number,
  ): Promise<void> {
    return this.limiter.charge(req, res, events, sub);
  }
}

/**
 * The gateway's side of the Mercure hub's ports: the publish rate limit, the client address
 * (TRUST_PROXY), the cluster bus and the stream pipeline, from the modules Herald's core built.
 */
@Module({})
export class MercurePortsModule {
  static register(
    limits: DynamicModule,
    cluster: DynamicModule,
    streams: DynamicModule,
  ): DynamicModule {
    return {
      module: MercurePortsModule,
      imports: [limits, cluster, streams, ClientAddressModule],
      providers: [
        PublishRateLimiter,
        { provide: MercurePublishRate, useClass: GatewayMercurePublishRate },
      ],
      exports: [MercurePublishRate, ClientAddressModule, cluster, streams],
    };
  }
}

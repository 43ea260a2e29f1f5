import { Injectable, Module } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { ClientAddress } from '@herald/streams';
import { clientIp } from './client-ip';

/** The streams' {@link ClientAddress} port: the client IP once TRUST_PROXY is applied. */
@Injectable()
export class ProxyAwareClientAddress extends ClientAddress {
  ipOf(req: IncomingMessage): string {
    return clientIp(req);
  }
}

/** Provides {@link ClientAddress} to the stream pipeline. */
@Module({
  providers: [{ provide: ClientAddress, useClass: ProxyAwareClientAddress }],
  exports: [ClientAddress],
})
export class ClientAddressModule {}

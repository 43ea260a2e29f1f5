import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ClusterBus } from '@herald/cluster';
import { ConnectionRegistry } from './connection.registry';
import type { ConnectionInfo } from './sse.connection';

/**
 * The cluster-bus queries about streams, with their payload and each instance's answer. Every
 * instance running `StreamsModule` answers them for the streams it holds, whichever app it is
 * (the gateway or a team's own app on the same Redis).
 */
export interface StreamsClusterQueries {
  /** Every open stream of the instance. */
  connections: { payload: undefined; answer: ConnectionInfo[] };
  /** Closes stream `id` (`admin`); true when this instance held it. */
  'close-connection': { payload: { readonly id: string }; answer: boolean };
  /** Closes every stream of `sub` (`revoked`); how many this instance closed. */
  'revoke-subject': { payload: { readonly sub: string }; answer: number };
}

declare module '@herald/cluster' {
  // Declares the streams' queries on the bus (typed `answer` and `collect`).
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged, not empty
  interface ClusterQueries extends StreamsClusterQueries {}
}

/** Answers {@link StreamsClusterQueries} from this instance's {@link ConnectionRegistry}. */
@Injectable()
export class StreamsClusterResponder implements OnModuleInit {
  constructor(
    private readonly bus: ClusterBus,
    private readonly registry: ConnectionRegistry,
  ) {}

  onModuleInit(): void {
    this.bus.answer('connections', () =>
      [...this.registry.values()].map((c) => c.info(this.bus.instanceId)),
    );
    this.bus.answer('close-connection', ({ id }) => {
      const connection = this.registry.get(id);
      if (!connection) return false;
      connection.end('admin');
      return true;
    });
    this.bus.answer('revoke-subject', ({ sub }) => {
      let closed = 0;
      for (const connection of [...this.registry.values()]) {
        if (connection.meta.sub === sub) {
          connection.end('revoked');
          closed++;
        }
      }
      return closed;
    });
  }
}

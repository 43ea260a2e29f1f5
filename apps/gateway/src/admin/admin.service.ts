import { Injectable } from '@nestjs/common';
import { ClusterBus, type ClusterPayload, type ClusterReply } from '@herald/cluster';
import type { ConnectionInfo } from '@herald/streams';

/**
 * The admin API's work, cluster-wide: every instance running Herald's streams answers for the
 * streams it holds (`StreamsModule` registers the answers), through the {@link ClusterBus}
 * (in-process with one instance, Redis pub/sub with many).
 */
@Injectable()
export class AdminService {
  constructor(private readonly bus: ClusterBus) {}

  /** Every open stream on every live instance, oldest first. */
  async connections(): Promise<ConnectionInfo[]> {
    const answers = await this.collect('connections', undefined);
    return answers.flat().sort((a, b) => a.connectedAt.localeCompare(b.connectedAt));
  }

  /** Closes the stream `id` on whichever instance holds it; false when no instance does. */
  async close(id: string): Promise<boolean> {
    return (await this.collect('close-connection', { id })).some((closed) => closed);
  }

  /** Closes every stream of `sub` on every instance; resolves with how many were closed. */
  async closeSubject(sub: string): Promise<number> {
    return (await this.collect('revoke-subject', { sub })).reduce((sum, n) => sum + n, 0);
  }

  private async collect<Q extends 'connections' | 'close-connection' | 'revoke-subject'>(
    query: Q,
    payload: ClusterPayload<Q>,
  ): Promise<ClusterReply<Q>[]> {
    const answers = await this.bus.collect(query, payload);
    return answers.map((a) => a.answer);
  }
}

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ClusterBus } from '@herald/cluster';
import { ConnectionRegistry, type ConnectionInfo } from '@herald/streams';

interface ClosePayload {
  readonly id: string;
}

interface RevokePayload {
  readonly sub: string;
}

/**
 * The admin API's work, cluster-wide: every instance answers for the streams it holds, through
 * the {@link ClusterBus} (in-process with one instance, Redis pub/sub with many).
 */
@Injectable()
export class AdminService implements OnModuleInit {
  constructor(
    private readonly bus: ClusterBus,
    private readonly registry: ConnectionRegistry,
  ) {}

  onModuleInit(): void {
    this.bus.answer('connections', () =>
      [...this.registry.values()].map((c) => c.info(this.bus.instanceId)),
    );
    this.bus.answer('close-connection', (payload) => {
      const connection = this.registry.get((payload as ClosePayload).id);
      if (!connection) return false;
      connection.end('admin');
      return true;
    });
    this.bus.answer('revoke-subject', (payload) => {
      const { sub } = payload as RevokePayload;
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

  /** Every open stream on every live instance, oldest first. */
  async connections(): Promise<ConnectionInfo[]> {
    const answers = await this.bus.collect<ConnectionInfo[]>('connections');
    return answers
      .flatMap((a) => a.answer)
      .sort((a, b) => a.connectedAt.localeCompare(b.connectedAt));
  }

  /** Closes the stream `id` on whichever instance holds it; false when no instance does. */
  async close(id: string): Promise<boolean> {
    const answers = await this.bus.collect<boolean>('close-connection', {
      id,
    } satisfies ClosePayload);
    return answers.some((a) => a.answer);
  }

  /** Closes every stream of `sub` on every instance; resolves with how many were closed. */
  async closeSubject(sub: string): Promise<number> {
    const answers = await this.bus.collect<number>('revoke-subject', {
      sub,
    } satisfies RevokePayload);
    return answers.reduce((sum, a) => sum + a.answer, 0);
  }
}

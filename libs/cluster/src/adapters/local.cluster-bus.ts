import {
  ClusterBus,
  type ClusterAnswer,
  type ClusterPayload,
  type ClusterQuery,
  type ClusterReply,
  type ClusterResponder,
} from '../cluster.port';

/** The single-instance bus (BROKER=memory): requests are answered in-process. */
export class LocalClusterBus extends ClusterBus {
  private readonly responders = new Map<string, (payload: unknown) => unknown>();

  constructor(readonly instanceId: string) {
    super();
  }

  answer<Q extends ClusterQuery>(query: Q, responder: ClusterResponder<Q>): void {
    this.responders.set(query, (payload) => responder(payload as ClusterPayload<Q>));
  }

  async collect<Q extends ClusterQuery>(
    query: Q,
    payload: ClusterPayload<Q>,
  ): Promise<ClusterAnswer<ClusterReply<Q>>[]> {
    const responder = this.responders.get(query);
    if (!responder) return [];
    return [{ instance: this.instanceId, answer: (await responder(payload)) as ClusterReply<Q> }];
  }

  instances(): Promise<string[]> {
    return Promise.resolve([this.instanceId]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

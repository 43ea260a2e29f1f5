import { ClusterBus, type ClusterAnswer, type ClusterResponder } from '../cluster.port';

/** The single-instance bus (BROKER=memory): requests are answered in-process. */
export class LocalClusterBus extends ClusterBus {
  private readonly responders = new Map<string, ClusterResponder>();

  constructor(readonly instanceId: string) {
    super();
  }

  answer(query: string, responder: ClusterResponder): void {
    this.responders.set(query, responder);
  }

  async collect<T>(query: string, payload?: unknown): Promise<ClusterAnswer<T>[]> {
    const responder = this.responders.get(query);
    if (!responder) return [];
    return [{ instance: this.instanceId, answer: (await responder(payload)) as T }];
  }

  instances(): Promise<string[]> {
    return Promise.resolve([this.instanceId]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

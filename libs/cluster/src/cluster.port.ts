/** Answers one kind of cluster request on this instance. */
export type ClusterResponder = (payload: unknown) => unknown;

/** One instance's answer to a cluster request. */
export interface ClusterAnswer<T> {
  readonly instance: string;
  readonly answer: T;
}

/**
 * Request/reply across every live Herald instance (this one included): the admin API lists,
 * closes and revokes connections wherever they are held.
 */
export abstract class ClusterBus {
  /** This instance's id (INSTANCE_ID). */
  abstract readonly instanceId: string;

  /** Registers this instance's responder for `query` (one per query name). */
  abstract answer(query: string, responder: ClusterResponder): void;

  /**
   * Sends `query` to every live instance and gathers their answers; instances that do not answer
   * within `timeoutMs` are left out.
   * @throws ClusterError (`cluster-unavailable`) when the request cannot be sent (Redis unreachable).
   */
  abstract collect<T>(
    query: string,
    payload?: unknown,
    timeoutMs?: number,
  ): Promise<ClusterAnswer<T>[]>;

  /** Ids of the instances currently alive (heartbeat within the instance TTL). */
  abstract instances(): Promise<string[]>;

  /** Stops heartbeats and closes connections. */
  abstract close(): Promise<void>;
}

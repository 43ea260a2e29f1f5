/**
 * The cluster requests every lib may send, by name: `{ payload; answer }` each. Empty here; the
 * lib that answers a request declares it by augmenting this interface (declaration merging), so
 * `answer` and `collect` are typed end to end:
 *
 * ```ts
 * declare module '@herald/cluster' {
 *   interface ClusterQueries {
 *     'close-connection': { payload: { readonly id: string }; answer: boolean };
 *   }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by augmentation
export interface ClusterQueries {}

/** A request name declared in {@link ClusterQueries}. */
export type ClusterQuery = Extract<keyof ClusterQueries, string>;

/** What is sent with request `Q`. */
export type ClusterPayload<Q extends ClusterQuery> = ClusterQueries[Q] extends {
  payload: infer P;
}
  ? P
  : never;

/** What each instance answers to request `Q`. */
export type ClusterReply<Q extends ClusterQuery> = ClusterQueries[Q] extends { answer: infer A }
  ? A
  : never;

/** Answers request `Q` on this instance. */
export type ClusterResponder<Q extends ClusterQuery = ClusterQuery> = (
  payload: ClusterPayload<Q>,
) => ClusterReply<Q> | Promise<ClusterReply<Q>>;

/** One instance's answer to a cluster request. */
export interface ClusterAnswer<T> {
  readonly instance: string;
  readonly answer: T;
}

/**
 * Request/reply across every live Herald instance (this one included): the admin API lists,
 * closes and revokes connections wherever they are held. Requests and answers are typed by
 * {@link ClusterQueries}; over Redis they travel as JSON.
 */
export abstract class ClusterBus {
  /** This instance's id (INSTANCE_ID). */
  abstract readonly instanceId: string;

  /** Registers this instance's responder for `query` (one per query name). */
  abstract answer<Q extends ClusterQuery>(query: Q, responder: ClusterResponder<Q>): void;

  /**
   * Sends `query` to every live instance and gathers their answers; instances that do not answer
   * within `timeoutMs` (default 2000) are left out.
   * @throws ClusterError (`cluster-unavailable`) when the request cannot be sent (Redis unreachable).
   */
  abstract collect<Q extends ClusterQuery>(
    query: Q,
    payload: ClusterPayload<Q>,
    timeoutMs?: number,
  ): Promise<ClusterAnswer<ClusterReply<Q>>[]>;

  /** Ids of the instances currently alive (heartbeat within the instance TTL). */
  abstract instances(): Promise<string[]>;

  /** Stops heartbeats and closes connections. */
  abstract close(): Promise<void>;
}

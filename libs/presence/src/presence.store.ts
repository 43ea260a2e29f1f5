/** One connection on a topic, as the store keeps it. */
export interface PresenceEntry {
  /** Connection id. */
  readonly id: string;
  /** Token `sub`; undefined for anonymous connections (counted, never listed). */
  readonly sub: string | undefined;
}

/** A user's first connection on a topic opened (`join`) or its last one closed (`leave`). */
export interface PresenceChange {
  readonly kind: 'join' | 'leave';
  readonly sub: string;
}

/** What changed on a topic in one batch, cluster-wide, with the counts after it. */
export interface PresenceBatch {
  readonly topic: string;
  /** Open connections on the topic (anonymous ones included). */
  readonly connections: number;
  /** Distinct subscribers with a token. */
  readonly users: number;
  readonly changes: readonly PresenceChange[];
}

/** One subscriber of a topic in {@link PresenceSnapshot}. */
export interface PresenceSubscriber {
  readonly sub: string;
  readonly connections: number;
  /** Instances holding its connections, sorted. */
  readonly instances: readonly string[];
}

/** `GET /presence`: who is on a topic (subscribers sorted by `sub`, one page). */
export interface PresenceSnapshot {
  readonly topic: string;
  readonly connections: number;
  readonly users: number;
  readonly subscribers: readonly PresenceSubscriber[];
  /** The last `sub` of this page when more follow. */
  readonly after: string | undefined;
}

/**
 * Port: where presence is kept. `apply` records a batch of enters and leaves of this instance's
 * connections on one topic; every store reports each resulting {@link PresenceBatch} (from any
 * instance) to the listener set with `onBatch`. In-memory (one instance) or Redis (leases).
 */
export abstract class PresenceStore {
  abstract apply(
    topic: string,
    instance: string,
    enters: readonly PresenceEntry[],
    leaves: readonly PresenceEntry[],
  ): Promise<void>;

  /**
   * Extends the leases of this instance's open connections, re-adding any the store lost
   * (reported as joins). A no-op where leases do not expire.
   */
  abstract refresh(
    instance: string,
    open: ReadonlyMap<string, readonly PresenceEntry[]>,
  ): Promise<void>;

  /** Expires the connections of instances that stopped refreshing (reported as leaves). */
  abstract reap(): Promise<void>;

  /** One page of `topic`'s subscribers after `after` (exclusive), at most `limit`. */
  abstract snapshot(
    topic: string,
    limit: number,
    after: string | undefined,
  ): Promise<PresenceSnapshot>;

  abstract onBatch(listener: (batch: PresenceBatch) => void): void;

  abstract close(): Promise<void>;
}

/** Groups connections (`[instance, sub]` each) into one snapshot page. */
export function snapshotOf(
  topic: string,
  members: Iterable<readonly [string, string | undefined]>,
  limit: number,
  after: string | undefined,
): PresenceSnapshot {
  let connections = 0;
  const subs = new Map<string, { connections: number; instances: Set<string> }>();
  for (const [instance, sub] of members) {
    connections++;
    if (sub === undefined) continue;
    let s = subs.get(sub);
    if (s === undefined) subs.set(sub, (s = { connections: 0, instances: new Set() }));
    s.connections++;
    s.instances.add(instance);
  }
  const names = [...subs.keys()].sort().filter((s) => after === undefined || s > after);
  const page = names.slice(0, limit);
  return {
    topic,
    connections,
    users: subs.size,
    subscribers: page.map((sub) => {
      const s = subs.get(sub)!;
      return { sub, connections: s.connections, instances: [...s.instances].sort() };
    }),
    after: names.length > limit ? page[page.length - 1] : undefined,
  };
}

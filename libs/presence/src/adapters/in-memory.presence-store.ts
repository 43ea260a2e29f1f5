import {
  PresenceStore,
  snapshotOf,
  type PresenceBatch,
  type PresenceChange,
  type PresenceEntry,
  type PresenceSnapshot,
} from '../presence.store';

interface TopicState {
  readonly members: Map<string, { readonly instance: string; readonly sub: string | undefined }>;
  readonly users: Map<string, number>;
}

/** Presence in this process (one instance): no leases, closes are the only leaves. */
export class InMemoryPresenceStore extends PresenceStore {
  private readonly topics = new Map<string, TopicState>();
  private listener: ((batch: PresenceBatch) => void) | undefined;

  apply(
    topic: string,
    instance: string,
    enters: readonly PresenceEntry[],
    leaves: readonly PresenceEntry[],
  ): Promise<void> {
    let state = this.topics.get(topic);
    if (state === undefined)
      this.topics.set(topic, (state = { members: new Map(), users: new Map() }));
    const changes: PresenceChange[] = [];
    for (const e of enters) {
      if (state.members.has(e.id)) continue;
      state.members.set(e.id, { instance, sub: e.sub });
      if (e.sub === undefined) continue;
      const n = (state.users.get(e.sub) ?? 0) + 1;
      state.users.set(e.sub, n);
      if (n === 1) changes.push({ kind: 'join', sub: e.sub });
    }
    for (const e of leaves) {
      const member = state.members.get(e.id);
      if (member === undefined) continue;
      state.members.delete(e.id);
      if (member.sub === undefined) continue;
      const n = (state.users.get(member.sub) ?? 1) - 1;
      if (n > 0) state.users.set(member.sub, n);
      else {
        state.users.delete(member.sub);
        changes.push({ kind: 'leave', sub: member.sub });
      }
    }
    const batch: PresenceBatch = {
      topic,
      connections: state.members.size,
      users: state.users.size,
      changes,
    };
    if (state.members.size === 0) this.topics.delete(topic);
    if (changes.length > 0) queueMicrotask(() => this.listener?.(batch));
    return Promise.resolve();
  }

  refresh(): Promise<void> {
    return Promise.resolve();
  }

  reap(): Promise<void> {
    return Promise.resolve();
  }

  snapshot(topic: string, limit: number, after: string | undefined): Promise<PresenceSnapshot> {
    const members = this.topics.get(topic)?.members ?? new Map<string, never>();
    const pairs = [...members.values()].map((m) => [m.instance, m.sub] as const);
    return Promise.resolve(snapshotOf(topic, pairs, limit, after));
  }

  onBatch(listener: (batch: PresenceBatch) => void): void {
    this.listener = listener;
  }

  close(): Promise<void> {
    this.topics.clear();
    return Promise.resolve();
  }
}

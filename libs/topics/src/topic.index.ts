import type { TopicFilter } from './topic.filter';

class PatternNode<T> {
  readonly children = new Map<string, PatternNode<T>>();
  star: PatternNode<T> | undefined;
  /** Entries whose pattern ends here. */
  readonly exact = new Set<T>();
  /** Entries whose pattern ends here with a trailing `**`. */
  readonly rest = new Set<T>();

  isEmpty(): boolean {
    return (
      this.children.size === 0 &&
      this.star === undefined &&
      this.exact.size === 0 &&
      this.rest.size === 0
    );
  }
}

/**
 * Maps topics and patterns to entries. A lookup costs the concrete-topic hash lookup plus a walk of
 * the pattern trie along the topic's segments, so patterns that cannot match cost nothing.
 */
export class TopicIndex<T> {
  private readonly topics = new Map<string, Set<T>>();
  private readonly root = new PatternNode<T>();
  private entries = 0;

  /** Number of (filter, entry) registrations. */
  get size(): number {
    return this.entries;
  }

  add(filter: TopicFilter, entry: T): void {
    if (filter.kind === 'topic') {
      let set = this.topics.get(filter.raw);
      if (!set) this.topics.set(filter.raw, (set = new Set()));
      if (!set.has(entry)) this.entries++;
      set.add(entry);
      return;
    }
    let node = this.root;
    const segs = filter.segments;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      if (s === '**') {
        if (!node.rest.has(entry)) this.entries++;
        node.rest.add(entry);
        return;
      }
      if (s === '*') {
        node = node.star ??= new PatternNode<T>();
      } else {
        let next = node.children.get(s);
        if (!next) node.children.set(s, (next = new PatternNode<T>()));
        node = next;
      }
    }
    if (!node.exact.has(entry)) this.entries++;
    node.exact.add(entry);
  }

  delete(filter: TopicFilter, entry: T): void {
    if (filter.kind === 'topic') {
      const set = this.topics.get(filter.raw);
      if (set?.delete(entry)) {
        this.entries--;
        if (set.size === 0) this.topics.delete(filter.raw);
      }
      return;
    }
    this.deleteAt(this.root, filter.segments, 0, entry);
  }

  private deleteAt(node: PatternNode<T>, segs: readonly string[], i: number, entry: T): void {
    if (i === segs.length) {
      if (node.exact.delete(entry)) this.entries--;
      return;
    }
    const s = segs[i];
    if (s === '**') {
      if (node.rest.delete(entry)) this.entries--;
      return;
    }
    const child = s === '*' ? node.star : node.children.get(s);
    if (!child) return;
    this.deleteAt(child, segs, i + 1, entry);
    if (child.isEmpty()) {
      if (s === '*') node.star = undefined;
      else node.children.delete(s);
    }
  }

  /** Calls `fn` for each entry registered under a filter matching `topic` (an entry may repeat). */
  forEachMatch(topic: string, fn: (entry: T) => void): void {
    const direct = this.topics.get(topic);
    if (direct) for (const e of direct) fn(e);
    const root = this.root;
    if (root.children.size === 0 && root.star === undefined && root.rest.size === 0) return;
    // Internal topics (`$...`) are delivered to exact subscribers only, never to wildcards.
    if (topic.charCodeAt(0) === 36) return;
    this.walk(root, topic.split('/'), 0, fn);
  }

  private walk(node: PatternNode<T>, segs: string[], i: number, fn: (entry: T) => void): void {
    for (const e of node.rest) fn(e);
    if (i === segs.length) {
      for (const e of node.exact) fn(e);
      return;
    }
    const child = node.children.get(segs[i]);
    if (child) this.walk(child, segs, i + 1, fn);
    if (node.star) this.walk(node.star, segs, i + 1, fn);
  }
}

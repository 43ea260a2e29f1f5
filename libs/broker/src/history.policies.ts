import { filterMatches, parseTopicFilter, type TopicFilter } from '@herald/topics';

/** One HISTORY_POLICIES entry: topics matching `pattern` keep `size` events for `ttlMs`. */
export interface HistoryPolicyRule {
  readonly pattern: string;
  readonly size: number;
  readonly ttlMs: number;
}

/** The history policy in force for one topic. */
export interface HistoryPolicy {
  /** The rule's pattern, or `null` for the default (HISTORY_SIZE / HISTORY_TTL_S). */
  readonly pattern: string | null;
  readonly size: number;
  readonly ttlMs: number;
}

/** Most topics whose policy is remembered (the lookup is a scan of the rules otherwise). */
const CACHE = 10_000;

/**
 * Per-topic history size and age (HISTORY_POLICIES, CONTRACT section 10): the first rule whose
 * pattern matches the topic wins; other topics get the default.
 */
export class HistoryPolicies {
  private readonly rules: readonly { filter: TopicFilter; rule: HistoryPolicyRule }[];
  private readonly fallback: HistoryPolicy;
  private readonly cache = new Map<string, HistoryPolicy>();
  /** The longest age any topic keeps (topic registry and clock trimming follow it). */
  readonly maxTtlMs: number;

  /** @throws Error naming the first invalid pattern. */
  constructor(
    rules: readonly HistoryPolicyRule[],
    defaults: { readonly size: number; readonly ttlMs: number },
  ) {
    this.rules = rules.map((rule) => {
      try {
        return { filter: parseTopicFilter(rule.pattern), rule };
      } catch (err) {
        throw new Error(
          `HISTORY_POLICIES: invalid pattern "${rule.pattern}": ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
    });
    this.fallback = { pattern: null, size: defaults.size, ttlMs: defaults.ttlMs };
    this.maxTtlMs = Math.max(defaults.ttlMs, ...rules.map((r) => r.ttlMs));
  }

  /** The shortest age any topic keeps. */
  get minTtlMs(): number {
    return Math.min(this.fallback.ttlMs, ...this.rules.map((r) => r.rule.ttlMs));
  }

  /** True when some rule exists (else every topic has the default). */
  get any(): boolean {
    return this.rules.length > 0;
  }

  /** The policy of `topic`: the first matching rule, else the default. */
  of(topic: string): HistoryPolicy {
    if (this.rules.length === 0) return this.fallback;
    let found = this.cache.get(topic);
    if (found !== undefined) return found;
    const segments = topic.split('/');
    const hit = this.rules.find(({ filter }) =>
      filter.kind === 'topic' ? filter.raw === topic : filterMatches(filter, segments),
    );
    found = hit
      ? { pattern: hit.rule.pattern, size: hit.rule.size, ttlMs: hit.rule.ttlMs }
      : this.fallback;
    if (this.cache.size >= CACHE) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(topic, found);
    return found;
  }
}

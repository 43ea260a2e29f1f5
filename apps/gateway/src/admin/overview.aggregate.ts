import type { ClusterAnswer } from '@herald/cluster';

/** Most topics one instance reports (its top topics by subscribers), whatever is asked. */
export const MAX_INSTANCE_TOPICS = 500;

/** Default and maximum of `GET /admin/overview?topics=N`. */
export const DEFAULT_OVERVIEW_TOPICS = 20;
export const MAX_OVERVIEW_TOPICS = 100;

/** A topic (or pattern, as subscribed) and how many open streams subscribe to it. */
export interface TopicCount {
  readonly topic: string;
  readonly subscribers: number;
}

/** Status of one readiness check on an instance. */
export interface CheckStatus {
  readonly status: 'up' | 'down';
  /** Why it is down (the indicator's message), when known. */
  readonly message?: string;
}

/**
 * One instance's answer to the `overview` cluster request: point-in-time gauges and cumulative
 * counters since it started (clients compute rates from two answers).
 */
export interface InstanceOverview {
  readonly instance: string;
  /** When the figures were read (epoch ms, this instance's clock). */
  readonly at: number;
  /** Process start (epoch ms): a later value than before means the counters restarted. */
  readonly startedAt: number;
  /** Readiness as `GET /health/ready` computes it. */
  readonly ready: boolean;
  readonly draining: boolean;
  readonly broker: CheckStatus & { readonly driver: string };
  /** p99 event-loop delay over the last window, in ms. */
  readonly eventLoopDelayMs: number;
  /** Open streams. */
  readonly connections: number;
  readonly published: number;
  readonly delivered: number;
  readonly slowConsumerCuts: number;
  /** Transient refusals by reason (`rate-limited`, `capacity`, `draining`). */
  readonly shed: Readonly<Record<string, number>>;
  /** `herald_delivery_latency_seconds`: cumulative count per bucket of {@link Overview.latencyBuckets}, then +Inf. */
  readonly latency: {
    readonly buckets: readonly number[];
    readonly count: number;
    readonly sum: number;
  };
  /** Distinct subscribed topics/patterns on this instance, and the most subscribed of them. */
  readonly topics: { readonly distinct: number; readonly top: readonly TopicCount[] };
}

/** `GET /admin/overview`: every live instance, cluster totals and the top topics. */
export interface Overview {
  /** When the answer was assembled (epoch ms). */
  readonly at: number;
  /** Upper bounds (seconds) of the latency buckets; each instance's `latency.buckets` adds +Inf. */
  readonly latencyBuckets: readonly number[];
  /** One entry per instance that answered, by id. */
  readonly instances: readonly InstanceOverview[];
  /** Instances alive (heartbeat) that did not answer in time. */
  readonly missing: readonly string[];
  readonly totals: {
    readonly instances: number;
    readonly ready: number;
    readonly connections: number;
    readonly published: number;
    readonly delivered: number;
    readonly slowConsumerCuts: number;
    readonly shed: number;
  };
  /** Most subscribed topics cluster-wide, at most `topics` entries. */
  readonly topTopics: readonly TopicCount[];
  /**
   * True when every instance reported all its topics, so `topTopics` is exact; false when one
   * had more than it reports ({@link MAX_INSTANCE_TOPICS}) and the ranking is approximate.
   */
  readonly topTopicsExact: boolean;
}

/**
 * Counts the streams per subscribed topic string and keeps the `limit` most subscribed (ties by
 * name, so answers are stable).
 */
export function topTopics(
  topicLists: Iterable<readonly string[]>,
  limit: number,
): { distinct: number; top: TopicCount[] } {
  const counts = new Map<string, number>();
  for (const topics of topicLists) {
    for (const topic of new Set(topics)) counts.set(topic, (counts.get(topic) ?? 0) + 1);
  }
  return { distinct: counts.size, top: rank(counts, limit) };
}

/** Merges instance answers into the cluster overview (pure: the unit tests drive it). */
export function aggregateOverview(
  answers: readonly ClusterAnswer<InstanceOverview>[],
  options: {
    readonly at: number;
    readonly live: readonly string[];
    readonly topics: number;
    readonly latencyBuckets: readonly number[];
  },
): Overview {
  const instances = answers
    .map((a) => ({ ...a.answer, instance: a.instance }))
    .sort((a, b) => a.instance.localeCompare(b.instance));
  const answered = new Set(instances.map((i) => i.instance));
  const missing = [...new Set(options.live)].filter((id) => !answered.has(id)).sort();
  const counts = new Map<string, number>();
  let exact = true;
  for (const i of instances) {
    if (i.topics.distinct > i.topics.top.length) exact = false;
    for (const t of i.topics.top) counts.set(t.topic, (counts.get(t.topic) ?? 0) + t.subscribers);
  }
  const sum = (f: (i: InstanceOverview) => number) => instances.reduce((s, i) => s + f(i), 0);
  return {
    at: options.at,
    latencyBuckets: options.latencyBuckets,
    instances,
    missing,
    totals: {
      instances: instances.length,
      ready: instances.filter((i) => i.ready).length,
      connections: sum((i) => i.connections),
      published: sum((i) => i.published),
      delivered: sum((i) => i.delivered),
      slowConsumerCuts: sum((i) => i.slowConsumerCuts),
      shed: sum((i) => Object.values(i.shed).reduce((s, n) => s + n, 0)),
    },
    topTopics: rank(counts, options.topics),
    topTopicsExact: exact,
  };
}

function rank(counts: ReadonlyMap<string, number>, limit: number): TopicCount[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([topic, subscribers]) => ({ topic, subscribers }));
}

/**
 * Parses `?topics=N` of `GET /admin/overview`: default {@link DEFAULT_OVERVIEW_TOPICS}.
 * @returns the number, or an error message naming the problem.
 */
export function parseTopicsLimit(raw: unknown): number | string {
  if (raw === undefined) return DEFAULT_OVERVIEW_TOPICS;
  const message = `topics must be an integer from 0 to ${MAX_OVERVIEW_TOPICS}`;
  if (typeof raw !== 'string' || !/^\d{1,3}$/.test(raw)) return message;
  const n = Number(raw);
  return n <= MAX_OVERVIEW_TOPICS ? n : message;
}

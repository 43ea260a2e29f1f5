import { parseTopicFilter } from '@herald/topics';

/** One HISTORY_POLICIES entry: topics matching `pattern` keep `size` events for `ttlMs`. */
export interface HistoryPolicyEntry {
  readonly pattern: string;
  readonly size: number;
  readonly ttlMs: number;
}

/**
 * Parses HISTORY_POLICIES text: comma-separated `pattern=size:ttlSeconds`.
 * @throws Error naming the bad entry.
 */
export function parseHistoryPolicies(text: string): HistoryPolicyEntry[] {
  const out: HistoryPolicyEntry[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const m = /^(.+)=(\d{1,9}):(\d{1,9})$/.exec(entry);
    if (!m) throw new Error(`HISTORY_POLICIES: "${entry}" is not pattern=size:ttlSeconds`);
    const size = Number(m[2]);
    const ttl = Number(m[3]);
    if (size < 1 || size > 1_000_000) {
      throw new Error(`HISTORY_POLICIES: size of "${entry}" must be 1..1000000`);
    }
    if (ttl < 1) throw new Error(`HISTORY_POLICIES: ttlSeconds of "${entry}" must be >= 1`);
    const pattern = m[1].trim();
    try {
      parseTopicFilter(pattern);
    } catch (err) {
      throw new Error(
        `HISTORY_POLICIES: "${pattern}" is not a topic or pattern (${err instanceof Error ? err.message : String(err)})`,
        { cause: err },
      );
    }
    out.push({ pattern, size, ttlMs: ttl * 1000 });
  }
  return out;
}

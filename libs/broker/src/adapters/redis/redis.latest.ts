import type { RedisClient } from '@herald/redis';
import { filterMatches, type TopicFilter } from '@herald/topics';
import { formatRedisCursor, type RedisKeys } from './redis.keys';
import { MAX_PATTERN_SCAN, splitId, toEvent, type SeqEvent } from './redis.replay';

/** What {@link readLatest} found: newest events (oldest first) and the head read with them. */
export interface RedisLatest {
  readonly events: readonly SeqEvent[];
  /** The cursor of the head at the read (`undefined` before the first publish ever). */
  readonly cursor: string | undefined;
}

/**
 * `since=latest` on Redis: the newest entry of each matching topic's stream (XREVRANGE COUNT 1)
 * and the head (`last`), read in one MULTI so that no publish falls between them: resuming
 * from the head then continues with no gap or duplicate. Patterns pick their topics from the
 * topic registry (most recently published first, at most {@link MAX_PATTERN_SCAN} entries read);
 * a topic first published between that scan and the MULTI is not replayed (its next event is
 * live). Events older than HISTORY_TTL_S are not replayed.
 */
export async function readLatest(
  cmd: RedisClient,
  keys: RedisKeys,
  filters: readonly TopicFilter[],
  maxTopics: number,
  historyTtlMs: number,
): Promise<RedisLatest> {
  const topics = new Set(filters.filter((f) => f.kind === 'topic').map((f) => f.raw));
  const patterns = filters.filter((f) => f.kind === 'pattern');
  if (patterns.length > 0) {
    const recent = await cmd.zrevrange(keys.topics, 0, MAX_PATTERN_SCAN - 1);
    let picked = 0;
    for (const t of recent) {
      if (picked >= maxTopics) break;
      if (topics.has(t)) continue;
      const segments = t.split('/');
      if (patterns.some((p) => filterMatches(p, segments))) {
        topics.add(t);
        picked++;
      }
    }
  }
  const names = [...topics];
  const tx = cmd.multi().mget(keys.epoch, keys.last);
  for (const t of names) tx.xrevrange(keys.stream(t), '+', '-', 'COUNT', 1);
  const replies = await tx.exec();
  if (replies === null) throw new Error('since=latest: transaction aborted');
  const [headErr, head] = replies[0] as [Error | null, (string | null)[]];
  if (headErr) throw headErr;
  const [epoch, last] = head;
  if (epoch === null || !last) return { events: [], cursor: undefined };
  const cutoff = Date.now() - historyTtlMs;
  const events: SeqEvent[] = [];
  names.forEach((topic, i) => {
    const [err, entries] = replies[i + 1] as [Error | null, [string, string[]][] | null];
    if (err || !entries || entries.length === 0) return;
    const event = toEvent(epoch, topic, entries[0][0], entries[0][1]);
    if (event.publishedAt >= cutoff) events.push(event);
  });
  events.sort((a, b) => b.seq - a.seq);
  const newest = events.slice(0, maxTopics).reverse();
  const [ms, seq] = splitId(last);
  return { events: newest, cursor: formatRedisCursor(epoch, ms, seq) };
}

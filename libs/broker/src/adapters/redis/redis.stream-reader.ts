import type { RedisClient } from '@herald/redis';
import { formatRedisCursor, streamId } from './redis.keys';
import type { SeqEvent } from './redis.replay';

/** Entries per XRANGE page of a backfill. */
const PAGE = 500;

/** One page of a topic stream after a position, or `expired` when some of it was trimmed. */
export type StreamPage =
  | { readonly expired: true }
  | { readonly expired: false; readonly entries: readonly [string, string[]][] };

/** After what a trimmed entry means lost history: a sequence, or a time (ms, inclusive). */
export type TrimmedAfter = { readonly seq: number } | { readonly ms: number };

/**
 * The one XINFO + XRANGE read of a topic stream: entries after stream id `from` (at most
 * `count`), and whether an entry after `after` was trimmed (XINFO max-deleted-entry-id;
 * sequences grow with stream ids inside a partition) or the stream is gone.
 */
export async function readStreamPage(
  cmd: RedisClient,
  key: string,
  from: string,
  after: TrimmedAfter,
  count: number,
): Promise<StreamPage> {
  const replies = await cmd
    .multi()
    .xinfo('STREAM', key)
    .xrange(key, `(${from}`, '+', 'COUNT', count)
    .exec();
  if (replies === null) throw new Error('stream read aborted');
  const [[infoErr, info], [rangeErr, range]] = replies as [
    [Error | null, unknown],
    [Error | null, unknown],
  ];
  if (infoErr) {
    if (/no such key/i.test(infoErr.message)) return { expired: true };
    throw infoErr;
  }
  if (rangeErr) throw rangeErr;
  const maxDeleted = fieldOf(info as unknown[], 'max-deleted-entry-id');
  if (typeof maxDeleted === 'string' && maxDeleted !== '0-0') {
    const [ms, seq] = splitId(maxDeleted);
    if ('seq' in after ? seq > after.seq : ms >= after.ms) return { expired: true };
  }
  return { expired: false, entries: range as [string, string[]][] };
}

/** Where {@link readStreamAfter} starts and what it reads. */
export interface StreamReadFrom {
  readonly ms: number;
  readonly seq: number;
  /** Most events to read. */
  readonly most: number;
  readonly epoch: string;
  readonly topic: string;
  readonly partition: number;
}

/** Every event of a topic stream after (ms, seq), up to `most`, page by page; or `expired`. */
export async function readStreamAfter(
  cmd: RedisClient,
  key: string,
  at: StreamReadFrom,
): Promise<SeqEvent[] | 'expired'> {
  const events: SeqEvent[] = [];
  let from = streamId(at.ms, at.seq);
  let first = true;
  while (events.length < at.most) {
    const count = Math.min(PAGE, at.most - events.length);
    const page = await readStreamPage(cmd, key, from, { seq: at.seq }, count);
    if (page.expired) {
      if (first) return 'expired';
      break;
    }
    first = false;
    for (const [id, fields] of page.entries) {
      events.push(toEvent(at.epoch, at.topic, id, fields, at.partition));
    }
    if (page.entries.length < count) break;
    from = page.entries[page.entries.length - 1][0];
  }
  return events;
}

/** Splits a stream id `<ms>-<seq>`. */
export function splitId(id: string): [number, number] {
  const dash = id.indexOf('-');
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

/** Compares two stream ids `<ms>-<seq>`. */
export function compareIds(a: string, b: string): number {
  const [am, as] = splitId(a);
  const [bm, bs] = splitId(b);
  return am === bm ? as - bs : am - bm;
}

/** A field of a flat `[name, value, ...]` reply. */
export function fieldOf(flat: unknown[], name: string): unknown {
  for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

/**
 * An event stored at `partition`/`seq` (ms `ms`) of the key space of `epoch`: what a stream
 * entry and a live pub/sub message both become.
 */
export function seqEvent(
  epoch: string,
  partition: number,
  seq: number,
  ms: number,
  topic: string,
  type: string,
  data: string,
  traceparent: string | undefined,
): SeqEvent {
  return {
    kind: 'event',
    id: formatRedisCursor(epoch, ms, seq),
    partition,
    seq,
    ms,
    topic,
    type,
    data,
    publishedAt: ms,
    ...(traceparent ? { traceparent } : {}),
  };
}

/** A stream entry as an event. */
export function toEvent(
  epoch: string,
  topic: string,
  id: string,
  fields: string[],
  partition = 0,
): SeqEvent {
  const [ms, seq] = splitId(id);
  let type = 'message';
  let data = 'null';
  let traceparent: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = fields[i + 1];
    if (fields[i] === 't') type = v;
    else if (fields[i] === 'd') data = v;
    else if (fields[i] === 'p' && v !== '') traceparent = v;
  }
  return seqEvent(epoch, partition, seq, ms, topic, type, data, traceparent);
}

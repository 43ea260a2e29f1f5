import type { IncomingMessage } from 'node:http';
import { parseTopicFilter, TopicSyntaxError, type TopicFilter } from '@herald/topics';
import { isValidEventId } from './sse.frame';

/**
 * The id of a `herald.shed` sent to a client that had no cursor. It names no position: a
 * client that presents it back (`Last-Event-ID`) connects as a new client, so the shed can never
 * hand out a cursor that resets it later (e.g. one made before the instance knew the Redis key
 * space).
 */
export const NO_CURSOR = 'herald.none';

/** A validated subscribe request. */
export interface SubscriptionRequest {
  readonly filters: readonly TopicFilter[];
  /** Resume cursor from `Last-Event-ID` (wins) or `?lastEventId=`. */
  readonly cursor: string | undefined;
  /**
   * `?since=latest` without a cursor: replay the newest retained event of each matching topic
   * first (a cursor wins over it).
   */
  readonly latest: boolean;
}

/** Error codes of a refused subscribe request (all map to 400). */
export enum SubscriptionErrorCode {
  NoTopic = 'no-topic',
  TooManyTopics = 'too-many-topics',
  BadTopic = 'bad-topic',
  MalformedCursor = 'malformed-cursor',
  BadSince = 'bad-since',
}

/** A subscribe request the gateway refuses before the stream opens. */
export class SubscriptionRequestError extends Error {
  constructor(
    readonly code: SubscriptionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SubscriptionRequestError';
  }
}

/** Raw inputs of a subscribe request. */
export interface RawSubscription {
  readonly topics: readonly string[];
  readonly headerCursor: string | undefined;
  readonly queryCursor: string | undefined;
  /** `?since=`: only `latest` is known. */
  readonly since?: string | undefined;
}

/**
 * Validates topics (1..`maxTopics`, CONTRACT section 4) and the cursor (syntax checked by
 * `isWellFormedCursor`, the broker's). Duplicate topics are collapsed.
 * @throws SubscriptionRequestError
 */
export function parseSubscription(
  raw: RawSubscription,
  maxTopics: number,
  isWellFormedCursor: (cursor: string) => boolean,
): SubscriptionRequest {
  if (raw.topics.length === 0) {
    throw new SubscriptionRequestError(
      SubscriptionErrorCode.NoTopic,
      'at least one topic is required (?topic=...)',
    );
  }
  const unique = [...new Set(raw.topics)];
  if (unique.length > maxTopics) {
    throw new SubscriptionRequestError(
      SubscriptionErrorCode.TooManyTopics,
      `too many topics: ${unique.length} (at most ${maxTopics})`,
    );
  }
  const filters: TopicFilter[] = [];
  for (const topic of unique) {
    try {
      filters.push(parseTopicFilter(topic));
    } catch (err) {
      if (err instanceof TopicSyntaxError) {
        throw new SubscriptionRequestError(SubscriptionErrorCode.BadTopic, err.message);
      }
      throw err;
    }
  }
  const header = raw.headerCursor?.trim();
  const given = header ? header : raw.queryCursor?.trim() || undefined;
  const cursor = given === NO_CURSOR ? undefined : given;
  if (cursor !== undefined && (!isValidEventId(cursor) || !isWellFormedCursor(cursor))) {
    throw new SubscriptionRequestError(
      SubscriptionErrorCode.MalformedCursor,
      'malformed Last-Event-ID: not a cursor issued by this gateway',
    );
  }
  if (raw.since !== undefined && raw.since !== 'latest') {
    throw new SubscriptionRequestError(
      SubscriptionErrorCode.BadSince,
      'since must be "latest" (or absent); resume from a position with Last-Event-ID',
    );
  }
  return { filters, cursor, latest: raw.since === 'latest' && cursor === undefined };
}

/**
 * Where a stream request starts: `Last-Event-ID`, `?lastEventId=` and `?since=`, unvalidated.
 */
export function requestCursors(
  req: IncomingMessage,
): Pick<RawSubscription, 'headerCursor' | 'queryCursor' | 'since'> {
  const header = req.headers['last-event-id'];
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const query = q < 0 ? undefined : new URLSearchParams(url.slice(q + 1));
  return {
    headerCursor: Array.isArray(header) ? header[0] : header,
    queryCursor: query?.get('lastEventId') ?? undefined,
    since: query?.get('since') ?? undefined,
  };
}

/** The `?topic=` values (repeated) of a request's URL. */
export function queryTopics(req: IncomingMessage): string[] {
  return new URL(req.url ?? '/', 'http://localhost').searchParams.getAll('topic');
}

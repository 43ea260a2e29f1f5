import type { Logger } from '@nestjs/common';
import {
  LATEST_MAX_TOPICS,
  type Broker,
  type BrokerAttachment,
  type BrokerSink,
} from '@herald/broker';
import type { TopicFilter } from '@herald/topics';
import type { StreamSource } from './herald.stream';

/**
 * `?since=latest`: hands `sink` the newest retained event of each matching topic (at most
 * {@link LATEST_MAX_TOPICS}, the most recently published, oldest first so the client's
 * Last-Event-ID only moves forward), then attaches the route's source from the cursor the
 * broker read them at: what was published after that read follows, with no gap or duplicate.
 * When the read fails the stream ends as a broker error (the client reconnects).
 */
export function attachLatest(
  broker: Broker,
  source: StreamSource,
  filters: readonly TopicFilter[],
  sink: BrokerSink,
  logger: Logger,
): BrokerAttachment {
  let stopped = false;
  let attachment: BrokerAttachment | undefined;
  broker.latest(filters, LATEST_MAX_TOPICS).then(
    ({ events, cursor }) => {
      if (stopped) return;
      for (const event of events) sink.next(event);
      if (stopped) return;
      attachment = source.attach(filters, cursor, sink);
      if (stopped) attachment.unsubscribe();
    },
    (err: unknown) => {
      if (stopped) return;
      logger.warn(`since=latest read failed: ${String(err)}`);
      sink.error(err);
    },
  );
  return {
    unsubscribe: () => {
      stopped = true;
      attachment?.unsubscribe();
    },
    resume: () => attachment?.resume?.(),
  };
}

import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  Broker,
  type BrokerAttachment,
  type BrokerEvent,
  type BrokerMessage,
  type BrokerSink,
  type BrokerStats,
  type LatestEvents,
  type PublishResult,
  type SubscribeOptions,
} from '@herald/broker';
import type { TopicFilter } from '@herald/topics';
import { MercureHub, type MercureReader } from './mercure.hub';
import { MemoryMercureIdStore } from './mercure.id-store';
import { compileSelector } from './mercure.selector';
import { MERCURE_TOPIC, encodeUpdate } from './mercure.update';

/** A broker whose attachments the test feeds by hand: [0] is the hub's feed, then each stream's own. */
class ScriptedBroker extends Broker {
  readonly sinks: { sink: BrokerSink; cursor?: string; closed: boolean }[] = [];
  publish(): Promise<PublishResult> {
    return Promise.resolve({ ids: ['c'], duplicate: false });
  }
  subscribe(_f: readonly TopicFilter[], _o?: SubscribeOptions): Observable<BrokerMessage> {
    return new Observable();
  }
  override attach(
    _f: readonly TopicFilter[],
    o: SubscribeOptions,
    sink: BrokerSink,
  ): BrokerAttachment {
    const entry = { sink, cursor: o.cursor, closed: false };
    this.sinks.push(entry);
    return { unsubscribe: () => (entry.closed = true) };
  }
  latest(): Promise<LatestEvents> {
    return Promise.resolve({ events: [], cursor: 'now' });
  }
  isWellFormedCursor(): boolean {
    return true;
  }
  nowCursor(): string {
    return 'now';
  }
  ping(): Promise<void> {
    return Promise.resolve();
  }
  stats(): BrokerStats {
    return { subscriptions: 0, topics: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const events = new Map<string, BrokerEvent>();
/** The broker event at cursor `c` (one object per cursor, as a broker hands every subscriber). */
function ev(c: string, topic = 'https://example.com/a', isPrivate = false): BrokerEvent {
  let e = events.get(c);
  if (!e) {
    e = {
      kind: 'event',
      id: c,
      topic: MERCURE_TOPIC,
      type: 'mercure.update',
      data: encodeUpdate({ topics: [topic], data: c, private: isPrivate, id: `urn:${c}` }),
      publishedAt: Date.now(),
    };
    events.set(c, e);
  }
  return e;
}

function setup(reader: Partial<MercureReader> = {}) {
  const broker = new ScriptedBroker();
  const hub = new MercureHub(broker, new MemoryMercureIdStore(10));
  const got: string[] = [];
  const sink: BrokerSink = {
    next: (m) => got.push(m.kind === 'event' ? m.id : `reset:${m.reason}`),
    error: () => got.push('error'),
    complete: () => got.push('complete'),
  };
  const attachment = hub.attach(
    {
      selectors: [compileSelector('https://example.com/a', 'exact')],
      canReadPrivate: () => false,
      ...reader,
    },
    'c0',
    sink,
  );
  const [feed, own] = broker.sinks;
  return { hub, feed, own, got, attachment };
}

describe('MercureHub seam between a stream own replay and the shared feed', () => {
  it('should switch to the feed where the own attachment catches up, without gap or duplicate', () => {
    const { hub, feed, own, got } = setup();
    expect(own.cursor).toBe('c0');
    feed.sink.next(ev('c2'));
    feed.sink.next(ev('c3'));
    own.sink.next(ev('c1'));
    expect(hub.streams).toBe(1);
    own.sink.next(ev('c2')); // the feed has it: switch, then deliver the buffered rest
    expect(own.closed).toBe(true);
    own.sink.next(ev('c3')); // late from the dropped attachment: ignored
    feed.sink.next(ev('c4'));
    expect(got).toEqual(['urn:c1', 'urn:c2', 'urn:c3', 'urn:c4']);
  });

  it('should switch when the own attachment ran ahead, and drop what it already delivered', () => {
    const { feed, own, got } = setup();
    own.sink.next(ev('c1'));
    own.sink.next(ev('c2'));
    own.sink.next(ev('c3'));
    feed.sink.next(ev('c2'));
    expect(own.closed).toBe(true);
    feed.sink.next(ev('c3'));
    feed.sink.next(ev('c4'));
    expect(got).toEqual(['urn:c1', 'urn:c2', 'urn:c3', 'urn:c4']);
  });

  it('should filter by selector and privacy on replay and live alike, and detach on unsubscribe', () => {
    const { hub, feed, own, got, attachment } = setup({
      canReadPrivate: (topics) => topics.includes('https://example.com/a'),
    });
    own.sink.next(ev('p1', 'https://example.com/b'));
    own.sink.next(ev('p2', 'https://example.com/a', true));
    feed.sink.next(ev('p3', 'https://example.com/a'));
    own.sink.next(ev('p3', 'https://example.com/a'));
    feed.sink.next(ev('p4', 'https://example.com/b'));
    attachment.unsubscribe();
    feed.sink.next(ev('p5', 'https://example.com/a'));
    expect(got).toEqual(['urn:p2', 'urn:p3']);
    expect(hub.streams).toBe(0);
  });

  it('should keep private updates from a stream whose grants do not cover them', () => {
    const { feed, own, got } = setup();
    feed.sink.next(ev('q1', 'https://example.com/a', true));
    own.sink.next(ev('q1', 'https://example.com/a', true));
    feed.sink.next(ev('q2', 'https://example.com/a'));
    expect(got).toEqual(['urn:q2']);
  });

  it('should end every stream when the shared feed is lost', () => {
    const { feed, got, hub } = setup();
    feed.sink.error(new Error('gone'));
    expect(got).toEqual(['complete']);
    expect(hub.streams).toBe(0);
  });
});

import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { PresenceMember } from '@herald/streams';
import { parseTopicFilter } from '@herald/topics';
import { InMemoryPresenceStore } from './adapters/in-memory.presence-store';
import { PRESENCE_EVENTS_PER_TICK, PRESENCE_TICK_MS, PresenceService } from './presence.service';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ticks = (n = 3) => sleep(PRESENCE_TICK_MS * n);

interface Member extends PresenceMember {
  readonly got: { type: string; data: unknown }[];
}

let nextId = 0;
function member(sub: string | undefined, url: string): Member {
  const got: { type: string; data: unknown }[] = [];
  const topics = new URL(url, 'http://h').searchParams.getAll('topic');
  return {
    id: `c${nextId++}`,
    sub,
    filters: topics.map((t) => parseTopicFilter(t)),
    req: { url } as IncomingMessage,
    notify: (type, data) => got.push({ type, data }),
    got,
  };
}

describe('PresenceService', () => {
  const services: PresenceService[] = [];
  const make = (topics = ['rooms/*']) => {
    const s = new PresenceService(
      { driver: 'memory', topics, instanceId: 'i1' },
      new InMemoryPresenceStore(),
    );
    services.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of services.splice(0)) s.stop();
  });

  it('should track only concrete topics under PRESENCE_TOPICS', () => {
    const s = make();
    expect(s.tracks('rooms/1')).toBe(true);
    expect(s.tracks('rooms/*')).toBe(false);
    expect(s.tracks('lobby')).toBe(false);
    expect(make([]).tracks('rooms/1')).toBe(false);
    expect(s.enter(member('a', '/events?topic=lobby&topic=rooms/*'))).toBeUndefined();
  });

  it('should refuse a bad presence parameter when checking', () => {
    const s = make();
    const req = (url: string) => ({ url }) as IncomingMessage;
    const filters = [parseTopicFilter('rooms/1')];
    expect(() => s.check(req('/events?topic=rooms/1&presence=all'), filters)).toThrow(/events/);
    expect(() =>
      s.check(req('/events?topic=lobby&presence=events'), [parseTopicFilter('lobby')]),
    ).toThrow(/PRESENCE_TOPICS/);
    expect(() => s.check(req('/events?topic=rooms/1&presence=events'), filters)).not.toThrow();
    expect(() => s.check(req('/events?topic=lobby'), [parseTopicFilter('lobby')])).not.toThrow();
  });

  it('should join on the first connection of a user, leave on the last, and net within a tick', async () => {
    const s = make();
    const watcher = member('w', '/events?topic=rooms/1&presence=events');
    s.enter(watcher);
    const a1 = s.enter(member('alice', '/events?topic=rooms/1'));
    const a2 = s.enter(member('alice', '/events?topic=rooms/1'));
    // Entered and left within the tick: the store never hears of it.
    s.enter(member('ghost', '/events?topic=rooms/1'))?.leave();
    await ticks();
    expect(watcher.got).toEqual([
      { type: 'herald.join', data: { topic: 'rooms/1', sub: 'w', connections: 3 } },
      { type: 'herald.join', data: { topic: 'rooms/1', sub: 'alice', connections: 3 } },
    ]);
    a1?.leave();
    a1?.leave(); // once only
    await ticks();
    expect(watcher.got).toHaveLength(2);
    a2?.leave();
    await ticks();
    expect(watcher.got.at(-1)).toEqual({
      type: 'herald.leave',
      data: { topic: 'rooms/1', sub: 'alice', connections: 1 },
    });
    const page = await s.page('rooms/1', 100, undefined);
    expect(page).toMatchObject({ connections: 1, users: 1, next: null });
  });

  it('should send one summary per observer when a tick would pass the event budget', async () => {
    const s = make();
    const observers = Array.from({ length: 40 }, (_, i) =>
      member(`o${i}`, '/events?topic=rooms/storm&presence=events'),
    );
    for (const o of observers) s.enter(o);
    await ticks();
    const joiners = Math.ceil(PRESENCE_EVENTS_PER_TICK / observers.length) + 1;
    for (const o of observers) o.got.length = 0;
    for (let i = 0; i < joiners; i++) s.enter(member(`j${i}`, '/events?topic=rooms/storm'));
    await ticks();
    for (const o of observers) {
      expect(o.got).toEqual([
        {
          type: 'herald.presence',
          data: { topic: 'rooms/storm', connections: 40 + joiners, users: 40 + joiners },
        },
      ]);
    }
  });

  it('should page subscribers and refuse a malformed next', async () => {
    const s = make();
    for (const sub of ['c', 'a', 'b']) s.enter(member(sub, '/events?topic=rooms/p'));
    s.enter(member(undefined, '/events?topic=rooms/p'));
    const first = await s.page('rooms/p', 2, undefined);
    expect(first.subscribers.map((x) => x.sub)).toEqual(['a', 'b']);
    expect(first).toMatchObject({ connections: 4, users: 3 });
    const second = await s.page('rooms/p', 2, first.next ?? undefined);
    expect(second.subscribers).toEqual([{ sub: 'c', connections: 1, instances: ['i1'] }]);
    expect(second.next).toBeNull();
    await expect(s.page('rooms/p', 2, '***')).rejects.toThrow(/next/);
  });
});

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type ReceivedEvent, type SseStream } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

const CAP = 128 * 1024;

/** A subscriber token for `sub` (subscribe everywhere), with optional presence grants. */
function token(sub: string, presence: string[] = [], expInS = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  return hs256(claims({ subscribe: ['**'], presence }, { sub, exp: now + expInS }));
}

const ADMIN = hs256(claims({ subscribe: ['**'], admin: true }, { sub: 'ops' }));

interface Presence {
  topic: string;
  connections: number;
  users: number;
  subscribers: { sub: string; connections: number; instances: string[] }[];
  next: string | null;
}

async function presenceOf(base: string, query: string, auth = ADMIN): Promise<Presence> {
  const res = await fetch(`${base}/presence?${query}`, { headers: bearer(auth) });
  expect(res.status).toBe(200);
  return (await res.json()) as Presence;
}

function presenceEvents(s: SseStream, sub?: string): ReceivedEvent[] {
  return s.events.filter(
    (e) =>
      (e.event === 'herald.join' || e.event === 'herald.leave') &&
      (sub === undefined || (JSON.parse(e.data) as { sub: string }).sub === sub),
  );
}

function waitForPresence(
  s: SseStream,
  kind: 'join' | 'leave',
  sub: string,
  timeoutMs = 10_000,
): Promise<ReceivedEvent> {
  return waitFor(
    () => s.events.find((e) => e.event === `herald.${kind}` && e.data.includes(`"sub":"${sub}"`)),
    `herald.${kind} of ${sub}`,
    timeoutMs,
  );
}

describe('Presence (e2e, memory broker)', () => {
  let gw: Gateway;
  let watcher: SseStream;
  const open: SseStream[] = [];

  async function join(topic: string, sub: string | undefined, extra = ''): Promise<SseStream> {
    const s = await openStream(
      gw.url,
      `/events?topic=${topic}${extra}`,
      sub === undefined ? {} : { headers: bearer(token(sub)) },
    );
    expect(s.status).toBe(200);
    open.push(s);
    return s;
  }

  beforeAll(async () => {
    gw = await startTestGateway({
      PRESENCE_TOPICS: 'rooms/*',
      MAX_BUFFERED_BYTES: String(CAP),
      TOKEN_EXPIRY_WARNING_MS: '0',
    });
    watcher = await openStream(gw.url, '/events?topic=rooms/main&presence=events', {
      headers: bearer(token('watcher')),
    });
    await waitForPresence(watcher, 'join', 'watcher');
  });

  afterAll(async () => {
    for (const s of [...open, watcher]) await s.close();
    await gw.shutdown();
  });

  it('should refuse GET /presence without a token, grant or tracked concrete topic', async () => {
    const get = (query: string, headers: Record<string, string> = {}) =>
      fetch(`${gw.url}/presence?${query}`, { headers });
    const none = await get('topic=rooms/main');
    expect(none.status).toBe(401);
    const plain = await get('topic=rooms/main', bearer(token('nobody')));
    expect(plain.status).toBe(403);
    expect(((await plain.json()) as { message: string }).message).toMatch(/presence/);
    const other = await get('topic=rooms/main', bearer(token('x', ['rooms/other'])));
    expect(other.status).toBe(403);
    for (const [query, message] of [
      ['topic=rooms/*', /pattern/],
      ['topic=lobby', /PRESENCE_TOPICS/],
      ['', /topic is required/],
      ['topic=rooms/main&limit=0', /limit/],
      ['topic=rooms/main&limit=abc', /limit/],
      ['topic=rooms/main&next=%%%', /next/],
      ['topic=a//b', /invalid topic/],
    ] as const) {
      const res = await get(query, bearer(ADMIN));
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { statusCode: number; error: string; message: string };
      expect(body.statusCode).toBe(400);
      expect(body.message).toMatch(message);
    }
    const granted = await get('topic=rooms/main', bearer(token('reader', ['rooms/*'])));
    expect(granted.status).toBe(200);
  });

  it('should refuse a bad presence parameter before the stream opens', async () => {
    const bad = await fetch(`${gw.url}/events?topic=rooms/main&presence=yes`);
    expect(bad.status).toBe(400);
    const untracked = await fetch(`${gw.url}/events?topic=lobby&presence=events`);
    expect(untracked.status).toBe(400);
    expect(((await untracked.json()) as { message: string }).message).toMatch(/PRESENCE_TOPICS/);
  });

  it('should join on the first connection of a user and leave on the last', async () => {
    const first = await join('rooms/main', 'alice');
    const joined = await waitForPresence(watcher, 'join', 'alice');
    expect(JSON.parse(joined.data)).toEqual({ topic: 'rooms/main', sub: 'alice', connections: 2 });
    const second = await join('rooms/main', 'alice');
    const p = await waitFor(async () => {
      const r = await presenceOf(gw.url, 'topic=rooms/main');
      return r.connections === 3 ? r : undefined;
    }, 'three connections');
    expect(p.users).toBe(2);
    expect(p.subscribers.find((s) => s.sub === 'alice')).toMatchObject({ connections: 2 });
    expect(presenceEvents(watcher, 'alice')).toHaveLength(1);
    await first.close();
    await waitFor(
      async () => (await presenceOf(gw.url, 'topic=rooms/main')).connections === 2,
      'two connections',
    );
    expect(presenceEvents(watcher, 'alice')).toHaveLength(1); // still there: no leave yet
    await second.close();
    const left = await waitForPresence(watcher, 'leave', 'alice');
    expect(JSON.parse(left.data)).toEqual({ topic: 'rooms/main', sub: 'alice', connections: 1 });
    expect(presenceEvents(watcher, 'alice').map((e) => e.event)).toEqual([
      'herald.join',
      'herald.leave',
    ]);
  });

  it('should count anonymous subscribers in connections, never in users', async () => {
    await join('rooms/anon', undefined);
    await join('rooms/anon', undefined);
    await join('rooms/anon', 'bob');
    const p = await waitFor(async () => {
      const r = await presenceOf(gw.url, 'topic=rooms/anon');
      return r.connections === 3 ? r : undefined;
    }, 'three connections');
    expect(p.users).toBe(1);
    expect(p.subscribers).toEqual([
      { sub: 'bob', connections: 1, instances: [expect.any(String)] },
    ]);
  });

  it('should page subscribers with limit and next', async () => {
    for (const sub of ['p1', 'p2', 'p3', 'p4', 'p5']) await join('rooms/paged', sub);
    await waitFor(
      async () => (await presenceOf(gw.url, 'topic=rooms/paged')).users === 5,
      'five users',
    );
    const seen: string[] = [];
    let next: string | null = null;
    for (let page = 0; page < 5; page++) {
      const q: string = `topic=rooms/paged&limit=2${next === null ? '' : `&next=${next}`}`;
      const r = await presenceOf(gw.url, q);
      expect(r.subscribers.length).toBeLessThanOrEqual(2);
      seen.push(...r.subscribers.map((s) => s.sub));
      next = r.next;
      if (next === null) break;
    }
    expect(seen).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
  });

  it("should carry the stream's current cursor as id without moving it", async () => {
    const { body } = await publish(gw.url, { topic: 'rooms/main', data: { n: 1 } });
    await waitFor(() => watcher.dataEvents.find((e) => e.id === body.id), 'the event');
    await join('rooms/main', 'carol');
    const joined = await waitForPresence(watcher, 'join', 'carol');
    expect(joined.id).toBe(body.id);
  });

  it('should leave when the client drops the connection abruptly', async () => {
    const { port } = new URL(gw.url);
    const socket: Socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      `GET /events?topic=rooms/main HTTP/1.1\r\nHost: herald\r\nAccept: text/event-stream\r\n` +
        `Authorization: Bearer ${token('dave')}\r\n\r\n`,
    );
    await waitForPresence(watcher, 'join', 'dave');
    socket.resetAndDestroy();
    await waitForPresence(watcher, 'leave', 'dave');
  });

  it('should leave when a slow consumer is cut', async () => {
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.pause();
    socket.on('error', () => undefined);
    socket.write(
      `GET /events?topic=rooms/slow HTTP/1.1\r\nHost: herald\r\nAccept: text/event-stream\r\n` +
        `Authorization: Bearer ${token('erin')}\r\n\r\n`,
    );
    const slowWatcher = await join('rooms/slow', 'sam', '&presence=events');
    await waitForPresence(slowWatcher, 'join', 'erin');
    const payload = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 400 && !presenceEvents(slowWatcher, 'erin')[1]; i++) {
      await publish(gw.url, { topic: 'rooms/slow', data: payload });
    }
    await waitForPresence(slowWatcher, 'leave', 'erin');
    socket.destroy();
  });

  it('should leave when the token expires', async () => {
    const s = await openStream(gw.url, '/events?topic=rooms/main', {
      headers: bearer(token('frank', [], 2)),
    });
    open.push(s);
    await waitForPresence(watcher, 'join', 'frank');
    await waitForPresence(watcher, 'leave', 'frank', 15_000);
    expect(s.ended).toBe(true);
  });

  it('should leave when an admin closes the connection', async () => {
    await join('rooms/main', 'gina');
    await waitForPresence(watcher, 'join', 'gina');
    const list = (await (
      await fetch(`${gw.url}/admin/connections`, { headers: bearer(ADMIN) })
    ).json()) as { connections: { id: string; sub: string | null }[] };
    const target = list.connections.find((c) => c.sub === 'gina');
    expect(target).toBeDefined();
    const res = await fetch(`${gw.url}/admin/connections/${target?.id}`, {
      method: 'DELETE',
      headers: bearer(ADMIN),
    });
    expect(res.status).toBeLessThan(300);
    await waitForPresence(watcher, 'leave', 'gina');
  });

  it("should leave when the subject's tokens are revoked", async () => {
    await join('rooms/main', 'hank');
    await waitForPresence(watcher, 'join', 'hank');
    const res = await fetch(`${gw.url}/admin/revocations`, {
      method: 'POST',
      headers: { ...bearer(ADMIN), 'Content-Type': 'application/json' },
      body: JSON.stringify({ sub: 'hank' }),
    });
    expect(res.status).toBeLessThan(300);
    await waitForPresence(watcher, 'leave', 'hank');
  });

  it('should not track topics outside PRESENCE_TOPICS or subscribed through a pattern', async () => {
    await join('rooms/*', 'ivan');
    await join('lobby', 'ivan');
    await publish(gw.url, { topic: 'rooms/main', data: 'sync' });
    await waitFor(() => watcher.dataEvents.some((e) => e.data === '"sync"'), 'sync event');
    const p = await presenceOf(gw.url, 'topic=rooms/main');
    expect(p.subscribers.some((s) => s.sub === 'ivan')).toBe(false);
  });
});

describe('Presence off (e2e)', () => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  });

  afterAll(async () => {
    await gw.shutdown();
  });

  it('should answer 400 for every topic when PRESENCE_TOPICS is empty', async () => {
    const res = await fetch(`${gw.url}/presence?topic=rooms/main`, { headers: bearer(ADMIN) });
    expect(res.status).toBe(400);
  });
});

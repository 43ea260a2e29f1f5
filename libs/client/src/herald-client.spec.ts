import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HeraldClient,
  type EventSourceLike,
  type HeraldClientOptions,
  type HeraldEvent,
  type HeraldState,
  type MessageEventLike,
} from './herald-client';

/** An EventSource double driven by the test: it only records and dispatches. */
class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  private readonly handlers = new Map<string, ((event: MessageEventLike) => void)[]>();

  constructor(
    readonly url: string,
    readonly init?: { withCredentials?: boolean },
  ) {
    FakeEventSource.instances.push(this);
  }

  static get last(): FakeEventSource {
    const last = FakeEventSource.instances.at(-1);
    if (!last) throw new Error('no EventSource created');
    return last;
  }

  addEventListener(type: string, listener: (event: MessageEventLike) => void): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), listener]);
  }

  close(): void {
    this.readyState = 2;
  }

  /** The query of the URL it was created with. */
  get query(): URLSearchParams {
    return new URL(this.url, 'http://gateway.test').searchParams;
  }

  open(): void {
    this.readyState = 1;
    this.fire('open', {});
  }

  /** A lost connection (`final`: a refusal, readyState CLOSED). */
  fail(final = false): void {
    this.readyState = final ? 2 : 0;
    this.fire('error', {});
  }

  event(type: string, id: string, data: unknown): void {
    this.fire(type, { data: JSON.stringify(data), lastEventId: id });
  }

  private fire(type: string, init: Omit<MessageEventLike, 'type'>): void {
    for (const handler of this.handlers.get(type) ?? []) handler({ type, ...init });
  }
}

describe('HeraldClient', () => {
  let states: [HeraldState, unknown][];

  beforeEach(() => {
    FakeEventSource.instances = [];
    states = [];
  });

  const client = (options: Partial<HeraldClientOptions> = {}) =>
    new HeraldClient({
      topics: ['orders/42', 'news/**'],
      EventSource: FakeEventSource,
      onStateChange: (state, detail) => states.push([state, detail]),
      ...options,
    });

  it('should put topics, cursor and token in the stream URL when connecting', () => {
    client({
      url: 'https://herald.example',
      lastEventId: 'm.abc.7',
      token: 'tok',
      withCredentials: true,
    }).connect();
    const es = FakeEventSource.last;
    expect(es.url.startsWith('https://herald.example/events?')).toBe(true);
    expect(es.query.getAll('topic')).toEqual(['orders/42', 'news/**']);
    expect(es.query.get('lastEventId')).toBe('m.abc.7');
    expect(es.query.get('access_token')).toBe('tok');
    expect(es.init).toEqual({ withCredentials: true });
  });

  it('should use a same-origin URL without cursor or token when none is given', () => {
    client().connect();
    expect(FakeEventSource.last.url).toBe('/events?topic=orders%2F42&topic=news%2F**');
    expect(FakeEventSource.last.init).toBeUndefined();
  });

  it("should ask for since=latest only without a cursor when since is 'latest'", () => {
    client({ since: 'latest' }).connect();
    expect(FakeEventSource.last.query.get('since')).toBe('latest');
    client({ since: 'latest', lastEventId: 'm.a.1' }).connect();
    expect(FakeEventSource.last.query.get('since')).toBeNull();
  });

  it('should refuse an empty topic list when constructed', () => {
    expect(() => client({ topics: [] })).toThrow(/topic/);
  });

  it('should deliver parsed events by type and track the cursor when events arrive', () => {
    const c = client();
    const seen: HeraldEvent[] = [];
    c.on('message', (e) => seen.push(e));
    c.connect();
    c.on('order.updated', (e) => seen.push(e)); // registered after connect: still heard
    const es = FakeEventSource.last;
    es.open();
    es.event('message', 'm.a.1', { n: 1 });
    es.event('order.updated', 'm.a.2', 'shipped');
    es.event('ignored.type', 'm.a.3', null);
    expect(seen).toEqual([
      { id: 'm.a.1', type: 'message', data: { n: 1 } },
      { id: 'm.a.2', type: 'order.updated', data: 'shipped' },
    ]);
    expect(c.cursor).toBe('m.a.2');
  });

  it('should stop calling a listener when it is removed', () => {
    const c = client().connect();
    const seen: string[] = [];
    const off = c.on('message', (e) => seen.push(e.id));
    FakeEventSource.last.event('message', 'm.a.1', 1);
    off();
    FakeEventSource.last.event('message', 'm.a.2', 2);
    expect(seen).toEqual(['m.a.1']);
  });

  it('should go connecting, open, reconnecting, open when the connection drops', () => {
    const c = client().connect();
    const es = FakeEventSource.last;
    es.open();
    es.fail();
    es.open();
    expect(states.map(([s]) => s)).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    expect(c.state).toBe('open');
    expect(FakeEventSource.instances).toHaveLength(1); // the browser reconnects, not the helper
  });

  it('should end in closed (refused) when the EventSource gives up after a non-200', () => {
    const c = client().connect();
    FakeEventSource.last.fail(true);
    expect(c.state).toBe('closed');
    expect(states.at(-1)).toEqual(['closed', { reason: 'refused' }]);
  });

  it('should call onReset and move the cursor when herald.reset arrives', () => {
    const onReset = vi.fn();
    const c = client({ onReset }).connect();
    FakeEventSource.last.open();
    FakeEventSource.last.event('herald.reset', 'm.new.0', { reason: 'unknown-cursor' });
    expect(onReset).toHaveBeenCalledWith('unknown-cursor');
    expect(c.cursor).toBe('m.new.0');
    expect(c.state).toBe('open');
  });

  it('should report shed with the retry hint and keep it until the stream reopens', () => {
    const c = client().connect();
    const es = FakeEventSource.last;
    es.event('herald.shed', 'm.a.0', { reason: 'capacity', retryAfterMs: 1234 });
    es.fail(); // the server closed; the browser waits retryAfterMs
    expect(c.state).toBe('shed');
    expect(states.at(-1)).toEqual(['shed', { reason: 'capacity', retryAfterMs: 1234 }]);
    es.open();
    expect(c.state).toBe('open');
  });

  it('should report draining when herald.drain arrives, then open again on reconnect', () => {
    const c = client().connect();
    const es = FakeEventSource.last;
    es.open();
    es.event('herald.drain', 'm.a.5', { reason: 'shutdown', retryAfterMs: 3500 });
    es.fail();
    expect(states.at(-1)).toEqual(['draining', { reason: 'shutdown', retryAfterMs: 3500 }]);
    es.open();
    expect(states.map(([s]) => s)).toEqual(['connecting', 'open', 'draining', 'open']);
    expect(c.cursor).toBe('m.a.5');
  });

  it('should reconnect from the cursor with a fresh token when herald.token-expiring arrives', async () => {
    let release: (token: string) => void = () => undefined;
    const refreshToken = vi.fn(() => new Promise<string>((r) => (release = r)));
    const c = client({ token: 'old', refreshToken });
    const seen: string[] = [];
    c.on('message', (e) => seen.push(e.id));
    c.connect();
    const first = FakeEventSource.last;
    first.open();
    first.event('message', 'm.a.1', 1);
    first.event('herald.token-expiring', 'm.a.1', { expiresAt: 1_700_000_000_000 });
    expect(refreshToken).toHaveBeenCalledWith(1_700_000_000_000);
    first.event('message', 'm.a.2', 2); // still flowing while the token is fetched
    release('new');
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(2));
    const second = FakeEventSource.last;
    expect(first.readyState).toBe(2);
    expect(second.query.get('lastEventId')).toBe('m.a.2');
    expect(second.query.get('access_token')).toBe('new');
    first.event('message', 'm.a.3', 3); // a late event of the old stream is ignored
    second.open();
    second.event('message', 'm.a.3', 3);
    expect(seen).toEqual(['m.a.1', 'm.a.2', 'm.a.3']);
    expect(c.state).toBe('open');
  });

  it('should reconnect once the token arrives when the old stream was refused meanwhile', async () => {
    let release: (token: string) => void = () => undefined;
    const c = client({ refreshToken: () => new Promise<string>((r) => (release = r)) }).connect();
    const first = FakeEventSource.last;
    first.open();
    first.event('message', 'm.a.9', 9);
    first.event('herald.token-expiring', 'm.a.9', { expiresAt: 1 });
    first.fail(true); // expired token: 401 on the browser's own reconnect
    expect(c.state).toBe('reconnecting');
    release('fresh');
    await vi.waitFor(() => expect(FakeEventSource.instances).toHaveLength(2));
    expect(FakeEventSource.last.query.get('lastEventId')).toBe('m.a.9');
    expect(FakeEventSource.last.query.get('access_token')).toBe('fresh');
  });

  it('should report the error and end closed when refreshToken fails and the stream is refused', async () => {
    const onError = vi.fn();
    const c = client({ refreshToken: () => Promise.reject(new Error('no session')), onError });
    c.connect();
    FakeEventSource.last.event('herald.token-expiring', 'm.a.1', { expiresAt: 1 });
    FakeEventSource.last.fail(true);
    await vi.waitFor(() => expect(onError).toHaveBeenCalled());
    expect(c.state).toBe('closed');
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  it('should not reopen when the application closed it during a token refresh', async () => {
    let release: (token: string) => void = () => undefined;
    const c = client({ refreshToken: () => new Promise<string>((r) => (release = r)) }).connect();
    FakeEventSource.last.event('herald.token-expiring', 'm.a.1', { expiresAt: 1 });
    c.close();
    release('late');
    await new Promise((r) => setTimeout(r, 10));
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(c.state).toBe('closed');
  });

  it('should resume from the cursor when reconnect() is called', () => {
    const c = client().connect();
    FakeEventSource.last.event('message', 'm.a.4', 4);
    c.reconnect();
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.instances[0].readyState).toBe(2);
    expect(FakeEventSource.last.query.get('lastEventId')).toBe('m.a.4');
  });
});

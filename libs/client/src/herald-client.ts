/**
 * Herald's browser helper: a dependency-free wrapper around `EventSource` that tracks the cursor
 * and turns the gateway's own `herald.*` events into states and callbacks. Served as an ES module
 * at `/herald-client.js`; also runs in Node with any EventSource implementation (e.g. the
 * `eventsource` package) passed as `options.EventSource`.
 */

/** Where a {@link HeraldClient} stands. */
export type HeraldState =
  /** First connection attempt in progress. */
  | 'connecting'
  /** Stream open; events flow. */
  | 'open'
  /** Connection lost; the EventSource retries by itself after the server's `retry:`. */
  | 'reconnecting'
  /** Refused for now (`herald.shed`); the EventSource retries after `retryAfterMs`. */
  | 'shed'
  /** The instance is shutting down (`herald.drain`); the EventSource retries after `retryAfterMs`. */
  | 'draining'
  /** Closed for good: by {@link HeraldClient.close}, or a refusal (any non-200 or a 204). */
  | 'closed';

/** Extra information about a state change. */
export interface HeraldStateDetail {
  /** `herald.shed` / `herald.drain` reason, or `refused` / `closed` for the `closed` state. */
  readonly reason?: string;
  /** The server's reconnect hint for `shed` and `draining`. */
  readonly retryAfterMs?: number;
}

/** One event as the application sees it. */
export interface HeraldEvent {
  /** The event's cursor (`id:`); pass it back to resume. */
  readonly id: string;
  /** The event type (`event:`), `message` when the publisher gave none. */
  readonly type: string;
  /** The published data, parsed from JSON (the raw text when it is not JSON). */
  readonly data: unknown;
}

/** The part of a `MessageEvent` the helper reads. */
export interface MessageEventLike {
  readonly type: string;
  readonly data?: unknown;
  readonly lastEventId?: string;
}

/** The part of an `EventSource` the helper uses (the browser's, or the `eventsource` package's). */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEventLike) => void): void;
  close(): void;
}

/** An `EventSource` constructor. */
export type EventSourceConstructor = new (
  url: string,
  init?: { withCredentials?: boolean },
) => EventSourceLike;

/** Options of {@link HeraldClient}. */
export interface HeraldClientOptions {
  /** Gateway base URL; default `''` (same origin as the page). */
  readonly url?: string;
  /** Topics or patterns to subscribe to (one stream for all of them). */
  readonly topics: readonly string[];
  /** Cursor to resume after (sent as `?lastEventId=`). */
  readonly lastEventId?: string;
  /**
   * `'latest'`: the first connection starts with the newest retained event of each topic
   * (`?since=latest`, CONTRACT section 10); reconnects resume from the cursor as usual.
   */
  readonly since?: 'latest';
  /** Token sent as `?access_token=` (prefer the `herald_token` cookie when you can). */
  readonly token?: string;
  /** Send cookies on cross-origin streams (the gateway must list your origin in CORS_ORIGINS). */
  readonly withCredentials?: boolean;
  /** EventSource implementation; default `globalThis.EventSource`. */
  readonly EventSource?: EventSourceConstructor;
  /** Called on every state change. */
  readonly onStateChange?: (state: HeraldState, detail: HeraldStateDetail) => void;
  /**
   * Called on `herald.reset`: events were lost (history expired or unknown cursor), refetch your
   * state. The stream goes on live from now.
   */
  readonly onReset?: (reason: string) => void;
  /**
   * Called on `herald.token-expiring` with the expiry (epoch ms). Return a fresh token (or
   * `undefined` after refreshing a cookie); the helper then reconnects from its cursor, so no event
   * is lost or repeated. Without this option the stream ends at expiry.
   */
  readonly refreshToken?: (expiresAt: number) => string | undefined | Promise<string | undefined>;
  /** Called when `refreshToken` throws or rejects. */
  readonly onError?: (error: unknown) => void;
}

/** `EventSource.CLOSED`. */
const CLOSED = 2;

/** Gateway event types the helper always handles. */
const GATEWAY_TYPES = ['herald.reset', 'herald.shed', 'herald.drain', 'herald.token-expiring'];

type Listener = (event: HeraldEvent) => void;

function parseData(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function field(data: unknown, key: string): unknown {
  return typeof data === 'object' && data !== null
    ? (data as Record<string, unknown>)[key]
    : undefined;
}

/**
 * One multiplexed Herald stream. Register listeners with {@link on}, then {@link connect}.
 * `EventSource` dispatches a named event only to listeners of that name, so register every type
 * you publish (`message` covers events published without a type).
 */
export class HeraldClient {
  private source: EventSourceLike | undefined;
  private current: HeraldState = 'closed';
  private lastId: string | undefined;
  private token: string | undefined;
  private opened = false;
  private stopped = true;
  private refreshing: Promise<void> | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly options: HeraldClientOptions) {
    if (options.topics.length === 0) throw new Error('HeraldClient: at least one topic is needed');
    this.lastId = options.lastEventId || undefined;
    this.token = options.token;
    // Unnamed events always count for the cursor, even before the application listens.
    this.listeners.set('message', new Set());
  }

  /** Current state. */
  get state(): HeraldState {
    return this.current;
  }

  /** The last event id seen: where a new connection resumes. */
  get cursor(): string | undefined {
    return this.lastId;
  }

  /** The stream URL a new connection would use (topics, cursor and token in the query). */
  get streamUrl(): string {
    const params = new URLSearchParams();
    for (const topic of this.options.topics) params.append('topic', topic);
    if (this.lastId) params.set('lastEventId', this.lastId);
    else if (this.options.since === 'latest') params.set('since', 'latest');
    if (this.token) params.set('access_token', this.token);
    return `${this.options.url ?? ''}/events?${params.toString()}`;
  }

  /**
   * Listens for events of `type` on this and every later connection.
   * @returns a function that removes the listener.
   */
  on(type: string, listener: Listener): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
      if (this.source && !GATEWAY_TYPES.includes(type)) this.listen(this.source, type);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Opens the stream (resuming from the cursor, if any). Does nothing when already connected. */
  connect(): this {
    this.stopped = false;
    if (!this.source) this.open('connecting');
    return this;
  }

  /**
   * Closes the current connection and opens a new one from the cursor, e.g. with a new token.
   * No event is lost or repeated: the gateway replays what came after the cursor.
   */
  reconnect(token?: string): this {
    if (token !== undefined) this.token = token;
    this.stopped = false;
    this.open('reconnecting');
    return this;
  }

  /** Closes the stream for good (until {@link connect}). */
  close(): void {
    this.stopped = true;
    this.source?.close();
    this.source = undefined;
    this.setState('closed', { reason: 'closed' });
  }

  private open(state: HeraldState): void {
    this.source?.close();
    const Impl =
      this.options.EventSource ??
      (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    if (!Impl) throw new Error('HeraldClient: no EventSource implementation available');
    const source = new Impl(
      this.streamUrl,
      this.options.withCredentials ? { withCredentials: true } : undefined,
    );
    this.source = source;
    this.setState(state, {});
    source.addEventListener('open', () => {
      if (this.source !== source) return;
      this.opened = true;
      this.setState('open', {});
    });
    source.addEventListener('error', () => this.onError(source));
    for (const type of GATEWAY_TYPES) {
      source.addEventListener(type, (event) => this.onGatewayEvent(source, event));
    }
    for (const type of this.listeners.keys()) {
      if (!GATEWAY_TYPES.includes(type)) this.listen(source, type);
    }
  }

  private listen(source: EventSourceLike, type: string): void {
    source.addEventListener(type, (event) => {
      if (this.source !== source) return;
      this.dispatch(event);
    });
  }

  /** Advances the cursor and calls the listeners of the event's type. */
  private dispatch(event: MessageEventLike): HeraldEvent {
    if (event.lastEventId) this.lastId = event.lastEventId;
    const out: HeraldEvent = {
      id: event.lastEventId ?? '',
      type: event.type,
      data: parseData(event.data),
    };
    for (const listener of this.listeners.get(event.type) ?? []) listener(out);
    return out;
  }

  private onGatewayEvent(source: EventSourceLike, event: MessageEventLike): void {
    if (this.source !== source) return;
    const { data } = this.dispatch(event);
    const reason = field(data, 'reason');
    const retry = field(data, 'retryAfterMs');
    const detail: HeraldStateDetail = {
      ...(typeof reason === 'string' ? { reason } : {}),
      ...(typeof retry === 'number' ? { retryAfterMs: retry } : {}),
    };
    switch (event.type) {
      case 'herald.reset':
        this.options.onReset?.(detail.reason ?? 'unknown');
        break;
      case 'herald.shed':
        this.setState('shed', detail);
        break;
      case 'herald.drain':
        this.setState('draining', detail);
        break;
      case 'herald.token-expiring': {
        const expiresAt = field(data, 'expiresAt');
        this.refresh(typeof expiresAt === 'number' ? expiresAt : Date.now());
        break;
      }
    }
  }

  private onError(source: EventSourceLike): void {
    if (this.source !== source) return;
    if (source.readyState === CLOSED) {
      // A refusal (non-200 or 204): the EventSource will not retry. A pending token refresh
      // reconnects once it has the new token.
      this.source = undefined;
      if (this.refreshing) {
        this.setState('reconnecting', {});
        return;
      }
      this.setState('closed', { reason: 'refused' });
      return;
    }
    // The browser reconnects by itself; after shed or drain the state keeps the server's hint.
    if (this.current === 'shed' || this.current === 'draining') return;
    this.setState(this.opened ? 'reconnecting' : 'connecting', {});
  }

  private refresh(expiresAt: number): void {
    const refreshToken = this.options.refreshToken;
    if (!refreshToken || this.refreshing) return;
    this.refreshing = (async () => {
      try {
        const token = await refreshToken(expiresAt);
        if (!this.stopped) this.reconnect(token);
      } catch (error: unknown) {
        this.options.onError?.(error);
        if (!this.source && !this.stopped) this.setState('closed', { reason: 'refused' });
      } finally {
        this.refreshing = undefined;
      }
    })();
  }

  private setState(state: HeraldState, detail: HeraldStateDetail): void {
    if (state === this.current && state !== 'shed' && state !== 'draining') return;
    this.current = state;
    this.options.onStateChange?.(state, detail);
  }
}

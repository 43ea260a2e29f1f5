import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { PUBLISHER_TOKEN } from './tokens';
import { waitFor } from './wait';

/** One parsed SSE event, with when it arrived. */
export interface ReceivedEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
  readonly at: number;
}

/** Options of {@link openStream}. */
export interface StreamOptions {
  readonly headers?: Record<string, string>;
}

/**
 * A raw SSE reader on `fetch` + `eventsource-parser`: records status, headers, every event,
 * comment and `retry:` value, and when bytes arrived. No reconnection.
 */
export class SseStream {
  readonly events: ReceivedEvent[] = [];
  readonly comments: string[] = [];
  readonly retries: number[] = [];
  readonly chunkTimes: number[] = [];
  raw = '';
  status = 0;
  headers: Headers = new Headers();
  ended = false;
  /**
   * Why the body stopped, when it did not end cleanly (reset, terminated) and `close()` was not
   * the cause: a stream that "ends cleanly" must leave this undefined.
   */
  failure: unknown;
  private readonly controller = new AbortController();
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly url: string) {}

  /** Connects; resolves once the status and headers are in. */
  async connect(options: StreamOptions = {}): Promise<this> {
    const res = await fetch(this.url, {
      headers: { Accept: 'text/event-stream', ...options.headers },
      signal: this.controller.signal,
    });
    this.status = res.status;
    this.headers = res.headers;
    const parser = createParser({
      onEvent: (m: EventSourceMessage) =>
        this.events.push({ id: m.id, event: m.event ?? 'message', data: m.data, at: Date.now() }),
      onComment: (c) => this.comments.push(c),
      onRetry: (r) => this.retries.push(r),
    });
    const body = res.body;
    if (!body) {
      this.ended = true;
      return this;
    }
    const decoder = new TextDecoder();
    this.done = (async () => {
      try {
        for await (const chunk of body) {
          this.chunkTimes.push(Date.now());
          const text = decoder.decode(chunk as Uint8Array, { stream: true });
          this.raw += text;
          parser.feed(text);
        }
      } catch (err) {
        if (!this.controller.signal.aborted) this.failure = err;
      } finally {
        this.ended = true;
      }
    })();
    return this;
  }

  /** Events other than the gateway's own `herald.*`. */
  get dataEvents(): ReceivedEvent[] {
    return this.events.filter((e) => !e.event.startsWith('herald.'));
  }

  waitForEvents(count: number, timeoutMs = 5000): Promise<ReceivedEvent[]> {
    return waitFor(
      () => (this.events.length >= count ? this.events : undefined),
      `${count} events on ${this.url} (have ${this.events.length})`,
      timeoutMs,
    );
  }

  waitForEnd(timeoutMs = 5000): Promise<boolean> {
    return waitFor(() => this.ended, `end of ${this.url}`, timeoutMs);
  }

  /** Aborts the request and waits for the reader to stop. */
  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}

/** Opens a raw SSE stream to `base + path`. */
export function openStream(
  base: string,
  path: string,
  options?: StreamOptions,
): Promise<SseStream> {
  return new SseStream(`${base}${path}`).connect(options);
}

/**
 * `POST /events` with a JSON body; returns status, parsed body and headers. Sends
 * `PUBLISHER_TOKEN` unless `headers` has its own `Authorization` (`''` sends none).
 */
export async function publish(
  base: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const auth: Record<string, string> = Object.keys(headers).some(
    (k) => k.toLowerCase() === 'authorization',
  )
    ? {}
    : { Authorization: `Bearer ${PUBLISHER_TOKEN}` };
  const sent = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ''));
  const res = await fetch(`${base}/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...auth, ...sent },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/**
 * Publishes `{at: Date.now(), i}` to `topic` every `everyMs` (at most `max` events) until
 * `stop()` is awaited; the events carry their publish time so a test can check what arrived when.
 */
export function publishSteadily(
  base: string,
  topic: string,
  everyMs = 25,
  max = 400,
): { stop(): Promise<void> } {
  let publishing = true;
  const loop = (async () => {
    for (let i = 0; publishing && i < max; i++) {
      await publish(base, { topic, data: { at: Date.now(), i } });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      publishing = false;
      await loop;
    },
  };
}

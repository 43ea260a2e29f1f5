import http from 'node:http';
import { createGunzip } from 'node:zlib';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionRegistry, frameEvent } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { attemptStream } from '../support/auth-helpers';
import {
  openStream,
  publish,
  type ReceivedEvent,
  type SseStream,
  publishSteadily,
} from '../support/sse-client';
import { scrape, value } from '../support/telemetry';
import { bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

/** A raw `http` client that gunzips the body itself and parses it with eventsource-parser. */
class RawGzipStream {
  readonly events: EventSourceMessage[] = [];
  headers: http.IncomingHttpHeaders = {};
  private req: http.ClientRequest | undefined;

  open(base: string, path: string): Promise<this> {
    return new Promise((resolve, reject) => {
      this.req = http.get(
        `${base}${path}`,
        { headers: { Accept: 'text/event-stream', 'Accept-Encoding': 'gzip' } },
        (res) => {
          this.headers = res.headers;
          const parser = createParser({ onEvent: (m) => this.events.push(m) });
          const gunzip = createGunzip();
          gunzip.setEncoding('utf8');
          gunzip.on('data', (text: string) => parser.feed(text));
          gunzip.on('error', () => undefined);
          res.pipe(gunzip);
          resolve(this);
        },
      );
      this.req.on('error', reject);
    });
  }

  close(): void {
    this.req?.destroy();
  }
}

const shape = (events: readonly { id?: string; event?: string; data: string }[]) =>
  events.map((e) => [e.id, e.event ?? 'message', e.data]);
const dataOnly = (events: readonly ReceivedEvent[]) =>
  events.filter((e) => !e.event.startsWith('herald.'));

describe('COMPRESSION=gzip (RELIABILITY 7, 8)', () => {
  let gw: Gateway;
  const streams: SseStream[] = [];
  const raws: RawGzipStream[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ COMPRESSION: 'gzip', BATCH_LINGER_MS: '20' });
  });
  afterAll(async () => {
    for (const r of raws) r.close();
    for (const s of streams) await s.close();
    await gw.app.close();
  });
  const open = async (path: string, headers: Record<string, string>) => {
    const s = await openStream(gw.url, path, { headers });
    streams.push(s);
    return s;
  };
  const raw = async (path: string) => {
    const r = await new RawGzipStream().open(gw.url, path);
    raws.push(r);
    return r;
  };

  it('should gzip for clients that accept it and not for others, varying on Accept-Encoding', async () => {
    const zipped = await open('/events?topic=z/headers', { 'Accept-Encoding': 'gzip' });
    const plain = await open('/events?topic=z/headers', { 'Accept-Encoding': 'identity' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toBe('Accept-Encoding');
    expect(zipped.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('vary')).toBe('Accept-Encoding');
    // The first bytes (retry:) are flushed through gzip at once.
    await waitFor(() => zipped.retries.length > 0 && plain.retries.length > 0, 'first retry');
    expect(zipped.retries).toEqual(plain.retries);
  });

  it('should deliver each event before the next is published and parse identically to identity', async () => {
    const topic = 'z/each';
    const zipped = await open(`/events?topic=${topic}`, { 'Accept-Encoding': 'gzip' });
    const plain = await open(`/events?topic=${topic}`, { 'Accept-Encoding': 'identity' });
    const rawZip = await raw(`/events?topic=${topic}`);
    await waitFor(() => zipped.retries.length > 0 && plain.retries.length > 0, 'streams open');
    await waitFor(() => rawZip.headers['content-encoding'] === 'gzip', 'raw headers');
    const values: unknown[] = [
      'a\nb',
      'c\r\nd',
      { deep: { list: [1, 2, 3], text: 'é 漢字 🎉' } },
      '\nevent: forged\nid: x\n\n',
      null,
      42,
    ];
    for (let i = 0; i < values.length; i++) {
      expect((await publish(gw.url, { topic, type: 'z.t', data: values[i] })).status).toBe(202);
      // Sync flush per batch: the event arrives without any further traffic.
      await waitFor(() => dataOnly(zipped.events).length > i, `gzip event ${i}`, 10_000);
      await waitFor(() => rawZip.events.length > i, `raw gzip event ${i}`, 10_000);
    }
    await waitFor(() => dataOnly(plain.events).length === values.length, 'identity events');
    expect(shape(dataOnly(zipped.events))).toEqual(shape(dataOnly(plain.events)));
    expect(shape(rawZip.events)).toEqual(shape(dataOnly(plain.events)));
    expect(dataOnly(zipped.events).map((e) => JSON.parse(e.data) as unknown)).toEqual(values);
  });

  it('should hand the parser 1,000 whole events from a burst with batching on', async () => {
    const topic = 'z/burst';
    const zipped = await open(`/events?topic=${topic}`, { 'Accept-Encoding': 'gzip' });
    const plain = await open(`/events?topic=${topic}`, { 'Accept-Encoding': 'identity' });
    const rawZip = await raw(`/events?topic=${topic}`);
    await waitFor(() => zipped.retries.length > 0 && plain.retries.length > 0, 'streams open');
    await waitFor(() => rawZip.headers['content-encoding'] === 'gzip', 'raw headers');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, b) =>
        publish(gw.url, {
          events: Array.from({ length: 100 }, (_, i) => ({
            topic,
            type: 'burst',
            data: { n: b * 100 + i, text: `line\n${'x'.repeat(i)}` },
          })),
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(202));
    const ids = results.flatMap((r) => r.body.ids as string[]);
    for (const s of [zipped, plain]) {
      await waitFor(() => dataOnly(s.events).length >= 1000, '1000 events', 20_000);
    }
    await waitFor(() => rawZip.events.length >= 1000, '1000 raw events', 20_000);
    for (const events of [dataOnly(zipped.events), dataOnly(plain.events), rawZip.events]) {
      expect(events).toHaveLength(1000);
      expect(events.map((e) => e.id).sort()).toEqual([...ids].sort());
      for (const e of events) {
        const parsed = JSON.parse(e.data) as { n: number; text: string };
        expect(parsed.text).toBe(`line\n${'x'.repeat(parsed.n % 100)}`);
      }
    }
    // Within one topic, publish order is delivery order, identical on every stream.
    expect(shape(dataOnly(zipped.events))).toEqual(shape(dataOnly(plain.events)));
    expect(shape(rawZip.events)).toEqual(shape(dataOnly(plain.events)));
  });
});

describe('COMPRESSION=gzip stream end', () => {
  it('should deliver the final frame compressed and then end the stream cleanly', async () => {
    const gw = await startTestGateway({ COMPRESSION: 'gzip' });
    try {
      const s = await openStream(gw.url, '/events?topic=z/end', {
        headers: { 'Accept-Encoding': 'gzip' },
      });
      await waitFor(() => s.retries.length > 0, 'stream open');
      const registry = gw.app.get(ConnectionRegistry);
      const [connection] = [...registry.values()];
      connection.end('admin', frameEvent(connection.cursor, 'herald.bye', '{"ok":true}'));
      await s.waitForEnd(10_000);
      expect(s.events.map((e) => [e.event, e.data])).toEqual([['herald.bye', '{"ok":true}']]);
      expect(registry.size).toBe(0);
    } finally {
      await gw.app.close();
    }
  });
});

describe('COMPRESSION=gzip with auth and telemetry', () => {
  it('should refuse without a token, then gzip a token holder, warn before exp and end at exp with nothing later', async () => {
    const gw = await startTestGateway({
      COMPRESSION: 'gzip',
      ANONYMOUS_TOPICS: '',
      TOKEN_EXPIRY_WARNING_MS: '1500',
    });
    try {
      const path = '/events?topic=zauth/t';
      const gzip = { 'Accept-Encoding': 'gzip' };
      expect((await attemptStream(gw.url, path, gzip)).status).toBe(401);

      const expSeconds = Math.ceil(Date.now() / 1000) + 3;
      const expMs = expSeconds * 1000;
      const token = hs256(claims({ subscribe: ['zauth/**'] }, { sub: 'zipped', exp: expSeconds }));
      const stream = await openStream(gw.url, path, { headers: { ...gzip, ...bearer(token) } });
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-encoding')).toBe('gzip');
      const publisher = publishSteadily(gw.url, 'zauth/t');
      await stream.waitForEnd(15_000);
      await sleep(300);
      await publisher.stop();

      const warning = stream.events.find((e) => e.event === 'herald.token-expiring');
      expect(JSON.parse(warning?.data ?? '{}')).toEqual({ expiresAt: expMs });
      const data = stream.dataEvents.map((e) => JSON.parse(e.data) as { at: number });
      expect(data.length).toBeGreaterThan(0);
      expect(data.filter((d) => d.at >= expMs)).toEqual([]);
      // The gzip member was finished: the decompressed text ends on a whole event.
      expect(stream.raw.endsWith('\n\n')).toBe(true);
      expect(stream.failure, 'ended by the server, not reset').toBeUndefined();

      // Every flush of the compressed stream was counted, and its close with its reason.
      const samples = await scrape(gw.url);
      expect(value(samples, 'herald_events_delivered_total')).toBeGreaterThanOrEqual(data.length);
      expect(value(samples, 'herald_connections_closed_total', { reason: 'token-expired' })).toBe(
        1,
      );
      expect(value(samples, 'herald_connections')).toBe(0);
    } finally {
      await gw.app.close();
    }
  });
});

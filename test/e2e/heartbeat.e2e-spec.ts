import http from 'node:http';
import { connect } from 'node:net';
import { createGunzip } from 'node:zlib';
import { createParser } from 'eventsource-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamsService, type CloseReason, type SseConnection } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { publish } from '../support/sse-client';
import { scrape, value } from '../support/telemetry';
import { sleep, waitFor } from '../support/wait';

const HEARTBEAT_MS = 300;
/** How long an idle stream is watched: ten heartbeats, well past the HEARTBEAT_MS + 1 s bound. */
const WATCH_MS = 3000;

/**
 * A raw `http` reader that records when decoded text arrives: for gzip, the time each piece
 * comes out of the client's own gunzip (compressed bytes that a missing flush holds back in the
 * server count as a gap), plus the comments and events the decoded text parses into.
 */
class TimedReader {
  readonly times: number[] = [];
  readonly comments: string[] = [];
  readonly events: string[] = [];
  encoding: string | undefined;
  private req: http.ClientRequest | undefined;

  open(base: string, path: string, gzip: boolean): Promise<this> {
    return new Promise((resolve, reject) => {
      this.req = http.get(
        `${base}${path}`,
        {
          headers: {
            Accept: 'text/event-stream',
            'Accept-Encoding': gzip ? 'gzip' : 'identity',
          },
        },
        (res) => {
          this.encoding = res.headers['content-encoding'];
          const parser = createParser({
            onEvent: (e) => this.events.push(e.event ?? 'message'),
            onComment: (c) => this.comments.push(c.trim()),
          });
          const text = this.encoding === 'gzip' ? res.pipe(createGunzip()) : res;
          text.setEncoding('utf8');
          text.on('data', (piece: string) => {
            this.times.push(Date.now());
            parser.feed(piece);
          });
          text.on('error', () => undefined);
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

describe('Heartbeats (RELIABILITY 5) with compression and batching', () => {
  let gw: Gateway | undefined;
  const readers: TimedReader[] = [];
  afterEach(async () => {
    for (const r of readers.splice(0)) r.close();
    await gw?.app.close();
    gw = undefined;
  });

  it.each<{ name: string; env: Record<string, string>; gzip: boolean }>([
    { name: 'COMPRESSION=gzip', env: { COMPRESSION: 'gzip' }, gzip: true },
    { name: 'BATCH_LINGER_MS=200', env: { BATCH_LINGER_MS: '200' }, gzip: false },
    {
      name: 'COMPRESSION=gzip and BATCH_LINGER_MS=200',
      env: { COMPRESSION: 'gzip', BATCH_LINGER_MS: '200' },
      gzip: true,
    },
  ])(
    'should keep every gap between decoded bytes under HEARTBEAT_MS + 1 s on an idle stream with $name',
    async ({ env, gzip }) => {
      gw = await startTestGateway({ HEARTBEAT_MS: String(HEARTBEAT_MS), ...env });
      const openedAt = Date.now();
      const reader = await new TimedReader().open(gw.url, '/events?topic=hb/idle', gzip);
      readers.push(reader);
      expect(reader.encoding).toBe(gzip ? 'gzip' : undefined);
      await sleep(WATCH_MS);
      // From the request to the first decoded byte, between pieces, and from the last one to now.
      const times = [openedAt, ...reader.times, Date.now()];
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      expect(Math.max(...gaps), `gaps ${gaps.join(',')}`).toBeLessThan(HEARTBEAT_MS + 1000);
      expect(reader.comments.filter((c) => c === 'ping').length).toBeGreaterThanOrEqual(5);
      expect(reader.events).toEqual([]);
    },
  );
});

/**
 * A client that never reads, on a stream that has gone idle. Heartbeats alone cannot fill the
 * kernel's socket buffers in any useful time (4 MB on loopback here, at about 13 bytes per
 * heartbeat), so the client first stops reading while events flow, until the socket takes no
 * more; then publishing stops, and only heartbeats are queued. Each heartbeat goes through the
 * same MAX_BUFFERED_BYTES check as an event: the backlog stays within the cap plus one frame,
 * and once the heartbeats push it past the cap the stream is cut and counted.
 */
describe('Heartbeat-only slow consumer', () => {
  const CAP = 1024;
  let gw: Gateway | undefined;
  afterEach(async () => {
    await gw?.app.close();
    gw = undefined;
  });

  it('should cut and count a non-reading client on an idle stream once heartbeats pass MAX_BUFFERED_BYTES', async () => {
    gw = await startTestGateway({ MAX_BUFFERED_BYTES: String(CAP), HEARTBEAT_MS: '100' });
    const streams = gw.app.get(StreamsService);
    const { port } = new URL(gw.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.pause();
    socket.on('error', () => undefined);
    socket.write(
      'GET /events?topic=hb/stall HTTP/1.1\r\nHost: herald\r\nAccept: text/event-stream\r\n\r\n',
    );
    try {
      const slow: SseConnection = await waitFor(
        () => [...streams.registry.values()][0],
        'the stream registered',
      );
      let reason: CloseReason | undefined;
      let closedAt = 0;
      slow.onClose((r) => {
        reason = r;
        closedAt = Date.now();
      });

      // Events smaller than the cap, one per publish (one socket write each), until the kernel
      // stops taking bytes: then what is unsent is at most one event, under the cap.
      const payload = 'x'.repeat(600);
      let published = 0;
      let stalledChecks = 0;
      while (stalledChecks < 3 && reason === undefined && published < 20_000) {
        if (slow.unsentBytes > 0) {
          stalledChecks++;
          await sleep(20);
          continue;
        }
        stalledChecks = 0;
        expect((await publish(gw.url, { topic: 'hb/stall', data: payload })).status).toBe(202);
        published++;
      }
      expect(reason, 'not cut while events were still taken by the socket').toBeUndefined();
      const unsentWhenIdle = slow.unsentBytes;
      expect(unsentWhenIdle).toBeGreaterThan(0);
      expect(unsentWhenIdle).toBeLessThanOrEqual(CAP);
      const idleFrom = Date.now();

      // Idle from here: only heartbeats are queued. Sample the backlog until the cut.
      let maxUnsent = unsentWhenIdle;
      await waitFor(
        () => {
          maxUnsent = Math.max(maxUnsent, slow.unsentBytes);
          return reason;
        },
        'the heartbeat-only slow consumer cut',
        60_000,
        5,
      );
      expect(reason).toBe('slow-consumer');
      expect(closedAt).toBeGreaterThan(idleFrom);
      expect(maxUnsent, 'backlog grew by heartbeats').toBeGreaterThan(unsentWhenIdle);
      // Within the cap plus one chunk-framed heartbeat.
      expect(maxUnsent).toBeLessThanOrEqual(CAP + 13);
      expect(streams.registry.get(slow.id)).toBeUndefined();
      const samples = await scrape(gw.url);
      expect(value(samples, 'herald_slow_consumer_disconnects_total')).toBe(1);
      expect(value(samples, 'herald_connections')).toBe(0);
    } finally {
      socket.destroy();
    }
  }, 90_000);
});

import { request, type IncomingMessage } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { createParser } from 'eventsource-parser';
import { fdLimit, raiseFdLimit } from '../support/fd-limit';
import { spawnGateway, type SpawnedGateway } from '../support/spawn-gateway';
import { publish } from '../support/sse-client';
import { waitFor } from '../support/wait';

const STREAMS = 2000;
const GRACE_MS = 10_000;

/** A light SSE client (node:http, no agent pooling) that records what a drain test needs. */
class LightStream {
  status = 0;
  opened = false;
  dataIds: string[] = [];
  drain: { id?: string; data: string; dataIdsBefore: number } | undefined;
  retries: number[] = [];
  closedAt = 0;

  constructor(url: string) {
    const parser = createParser({
      onEvent: (e) => {
        if (e.event === 'herald.drain')
          this.drain = { id: e.id, data: e.data, dataIdsBefore: this.dataIds.length };
        else if (e.id !== undefined) this.dataIds.push(e.id);
      },
      onRetry: (r) => {
        this.retries.push(r);
        this.opened = true;
      },
    });
    const req = request(url, {
      agent: false,
      headers: { Accept: 'text/event-stream' },
    });
    req.on('response', (res: IncomingMessage) => {
      this.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.feed(chunk));
      res.on('close', () => (this.closedAt ||= Date.now()));
    });
    req.on('error', () => (this.closedAt ||= Date.now()));
    req.end();
  }
}

describe('Graceful drain at scale (spawned gateway)', () => {
  let gw: SpawnedGateway | undefined;
  afterAll(() => gw?.kill('SIGKILL'));

  it('should drain 2,000 streams spread over the window, lose no accepted publish, and exit 0 in time', async () => {
    // 2,000 sockets here and 2,000 in the gateway (spawned after this, so it inherits the limit).
    const limit = raiseFdLimit(8192);
    expect(limit, 'open-files limit (ulimit -n) too low for 2,000 streams').toBeGreaterThan(
      STREAMS + 500,
    );
    gw = await spawnGateway({ SHUTDOWN_GRACE_MS: String(GRACE_MS), RETRY_MS: '1000' });
    expect(fdLimit(gw.child.pid), "the gateway's open-files limit").toBeGreaterThan(STREAMS + 500);
    const url = gw.url;
    const streams: LightStream[] = [];
    for (let i = 0; i < STREAMS; i += 200) {
      for (let j = 0; j < 200; j++) streams.push(new LightStream(`${url}/events?topic=scale`));
      await waitFor(() => streams.every((s) => s.opened), `${streams.length} streams open`, 20_000);
    }
    expect(streams.every((s) => s.status === 200)).toBe(true);

    const published: string[] = [];
    for (let n = 0; n < 20; n++) {
      const res = await publish(url, { topic: 'scale', data: { n } });
      expect(res.status).toBe(202);
      published.push(res.body.id as string);
    }
    const beforeSigterm = published.length;

    // Keep publishing through the drain: whatever is accepted must reach every client still open.
    let publishing = true;
    const publisher = (async () => {
      for (let n = 0; publishing && n < 10_000; n++) {
        const res = await publish(url, { topic: 'scale', data: { during: n } }).catch(() => null);
        if (res === null) break;
        if (res.status === 202) published.push(res.body.id as string);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const sigtermAt = Date.now();
    gw.kill('SIGTERM');
    await waitFor(
      async () => (await fetch(`${url}/health/ready`).catch(() => null))?.status === 503,
      'readiness 503',
      GRACE_MS,
      10,
    );
    const readyFlippedAfter = Date.now() - sigtermAt;
    const code = await gw.exited;
    const exitedAfter = Date.now() - sigtermAt;
    publishing = false;
    await publisher;

    expect(code).toBe(0);
    expect(readyFlippedAfter).toBeLessThan(3000);
    expect(exitedAfter).toBeLessThan(GRACE_MS + 5000);
    await waitFor(() => streams.every((s) => s.closedAt > 0), 'all closed', 5000);

    for (const s of streams) {
      expect(s.drain, 'every client gets herald.drain').toBeDefined();
      expect(JSON.parse(s.drain!.data)).toMatchObject({ reason: 'shutdown' });
      expect(s.retries.at(-1)).toBeGreaterThanOrEqual(1000);
      // Every event accepted before this client was drained reached it, in order, no gap.
      expect(s.dataIds).toEqual(published.slice(0, s.dataIds.length));
      expect(s.dataIds.length).toBeGreaterThanOrEqual(beforeSigterm);
      expect(s.drain!.dataIdsBefore).toBe(s.dataIds.length);
    }
    // Closes are spread across the window rather than all at once.
    const closes = streams.map((s) => s.closedAt - sigtermAt).sort((a, b) => a - b);
    const spread = closes[closes.length - 1] - closes[0];
    expect(spread).toBeGreaterThanOrEqual(GRACE_MS * 0.4);
    const firstSecond = closes.filter((t) => t - closes[0] < 1000).length;
    expect(firstSecond).toBeLessThan(STREAMS / 3);
    console.log(
      `drain: ready 503 after ${readyFlippedAfter} ms, closes spread ${spread} ms, exit after ${exitedAfter} ms, ${published.length - beforeSigterm} publishes accepted during drain`,
    );
  }, 120_000);
});

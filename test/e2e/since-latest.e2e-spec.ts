import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_MAX_TOPICS } from '@herald/broker';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { waitFor } from '../support/wait';

async function publishOne(base: string, topic: string, data: unknown): Promise<string> {
  const { status, body } = await publish(base, { topic, data });
  expect(status).toBe(202);
  return body.id as string;
}

describe('since=latest (e2e, memory broker)', () => {
  let gw: Gateway;
  const open: SseStream[] = [];

  async function stream(path: string, headers: Record<string, string> = {}): Promise<SseStream> {
    const s = await openStream(gw.url, path, { headers });
    expect(s.status).toBe(200);
    open.push(s);
    return s;
  }

  beforeAll(async () => {
    gw = await startTestGateway();
  });

  afterAll(async () => {
    for (const s of open) await s.close();
    await gw.shutdown();
  });

  it('should replay the newest event of a topic first, then go live without a gap', async () => {
    await publishOne(gw.url, 'prices/eur', 1.01);
    const newest = await publishOne(gw.url, 'prices/eur', 1.02);
    await publishOne(gw.url, 'prices/usd', 0.99);
    const s = await stream('/events?topic=prices/eur&since=latest');
    await s.waitForEvents(1);
    expect(s.dataEvents.map((e) => [e.id, e.data])).toEqual([[newest, '1.02']]);
    const live = await publishOne(gw.url, 'prices/eur', 1.03);
    await waitFor(() => s.dataEvents.length >= 2, 'the live event');
    expect(s.dataEvents.map((e) => e.id)).toEqual([newest, live]);
  });

  it('should replay the newest event of each topic of a pattern, in publish order', async () => {
    const a = await publishOne(gw.url, 'fx/a', 'a1');
    const b1 = await publishOne(gw.url, 'fx/b', 'b1');
    const a2 = await publishOne(gw.url, 'fx/a', 'a2');
    const s = await stream('/events?topic=fx/*&since=latest');
    await waitFor(() => s.dataEvents.length >= 2, 'two latest events');
    expect(s.dataEvents.map((e) => e.id)).toEqual([b1, a2]);
    expect(s.dataEvents.map((e) => e.id)).not.toContain(a);
  });

  it('should keep at most LATEST_MAX_TOPICS topics, the most recently published', async () => {
    const ids: string[] = [];
    for (let i = 0; i < LATEST_MAX_TOPICS + 5; i++) {
      ids.push(await publishOne(gw.url, `many/t${i}`, i));
    }
    const s = await stream('/events?topic=many/**&since=latest');
    await waitFor(() => s.dataEvents.length >= LATEST_MAX_TOPICS, 'the latest events');
    const live = await publishOne(gw.url, 'many/t0', 'live');
    await waitFor(() => s.dataEvents.some((e) => e.id === live), 'the live event');
    expect(s.dataEvents.map((e) => e.id)).toEqual([...ids.slice(5), live]);
  });

  it('should let a cursor win over since=latest', async () => {
    const first = await publishOne(gw.url, 'cur/x', 1);
    const second = await publishOne(gw.url, 'cur/x', 2);
    const third = await publishOne(gw.url, 'cur/x', 3);
    const s = await stream('/events?topic=cur/x&since=latest', { 'Last-Event-ID': first });
    await waitFor(() => s.dataEvents.length >= 2, 'the replay');
    expect(s.dataEvents.map((e) => e.id)).toEqual([second, third]);
  });

  it('should stream live only when the topic has no retained event', async () => {
    const s = await stream('/events?topic=empty/one&since=latest');
    const live = await publishOne(gw.url, 'empty/one', 'x');
    await waitFor(() => s.dataEvents.length >= 1, 'the live event');
    expect(s.dataEvents.map((e) => e.id)).toEqual([live]);
  });

  it('should refuse an unknown since value with 400', async () => {
    const res = await fetch(`${gw.url}/events?topic=prices/eur&since=yesterday`, {
      headers: { Accept: 'text/event-stream' },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { statusCode: number; message: string };
    expect(body.message).toMatch(/since/);
  });
});

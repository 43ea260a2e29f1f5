import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { hubUrl, mercurePublish, V1_ALL } from '../support/mercure';
import { SseStream } from '../support/sse-client';
import { bearer } from '../support/tokens';

describe('Mercure hub: subscribe and publish (1.0)', () => {
  let gw: Gateway;
  const streams: SseStream[] = [];
  const open = async (
    params: [string, string][],
    headers: Record<string, string> = bearer(V1_ALL),
  ) => {
    const s = new SseStream(hubUrl(gw.url, params));
    streams.push(s);
    await s.connect({ headers });
    return s;
  };

  beforeAll(async () => {
    gw = await startTestGateway({ MERCURE: 'on' });
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await gw?.shutdown();
  });

  it('should deliver an update to an exact subscriber with its data framed line by line', async () => {
    const s = await open([['match', 'https://example.com/books/1']]);
    expect(s.status).toBe(200);
    const res = await mercurePublish(gw.url, [
      ['topic', 'https://example.com/books/1'],
      ['data', 'line one\n\n  indented\nlast'],
      ['id', 'urn:test:1'],
      ['type', 'book.updated'],
      ['retry', '1500'],
    ]);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.body).toBe('urn:test:1');
    const [event] = await s.waitForEvents(1);
    expect(event).toMatchObject({
      id: 'urn:test:1',
      event: 'book.updated',
      data: 'line one\n\n  indented\nlast',
    });
    expect(s.raw).toContain(
      'id: urn:test:1\nevent: book.updated\nretry: 1500\ndata: line one\ndata: \ndata:   indented\ndata: last\n\n',
    );
  });
});

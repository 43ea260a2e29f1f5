import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { bearer, PUBLISHER_TOKEN } from '../support/tokens';
import { publish } from '../support/sse-client';

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

describe('Refusals (4xx)', () => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startTestGateway({ MAX_TOPICS_PER_CONNECTION: '4', MAX_EVENT_BYTES: '1024' });
  });
  afterAll(async () => {
    await gw.app.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}): Promise<Reply> => {
    const res = await fetch(`${gw.url}${path}`, {
      headers: { Accept: 'text/event-stream', ...headers },
    });
    const text = await res.text();
    return {
      status: res.status,
      body: JSON.parse(text) as Record<string, unknown>,
      headers: res.headers,
    };
  };
  const expectError = (reply: Reply, status: number, message?: RegExp) => {
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({
      statusCode: status,
      error: expect.any(String),
      message: expect.any(String),
    });
    if (message) expect(reply.body.message).toMatch(message);
  };

  describe('GET /events', () => {
    it.each([
      ['no topic', '/events', /at least one topic/],
      ['empty topic', '/events?topic=', /empty/],
      ['empty segment', '/events?topic=a//b', /empty segment/],
      ['trailing slash', '/events?topic=a/', /empty segment/],
      ['leading slash', '/events?topic=/a', /empty segment/],
      ['** in the middle', '/events?topic=a/**/b', /last segment/],
      ['partial wildcard', '/events?topic=a/b*', /characters outside/],
      ['space', '/events?topic=a%20b', /characters outside/],
      ['LF', '/events?topic=a%0Ab', /characters outside/],
      ['CR', '/events?topic=a%0Db', /characters outside/],
      ['NUL', '/events?topic=a%00b', /characters outside/],
      ['encoded dot-dot with slash', '/events?topic=a%2F..%2F%2Fb', /empty segment/],
      ['unicode look-alike', '/events?topic=%D0%B0dmin', /characters outside/],
      ['257 characters', `/events?topic=${'a'.repeat(257)}`, /longer than 256/],
      ['too many topics', '/events?topic=a&topic=b&topic=c&topic=d&topic=e', /too many topics/],
    ])('should refuse %s with 400', async (_name, path, message) => {
      expectError(await get(path), 400, message);
    });

    it.each(['-', '+', '$', '*', '0-0', 'x'.repeat(129), 'm.abc', 'm.abc.-1', '1-0', 'a b'])(
      'should refuse the malformed cursor %j with 400',
      async (cursor) => {
        expectError(
          await get(`/events?topic=a&lastEventId=${encodeURIComponent(cursor)}`),
          400,
          /Last-Event-ID/,
        );
        expectError(
          await get('/events?topic=a', { 'Last-Event-ID': cursor }),
          400,
          /Last-Event-ID/,
        );
      },
    );

    it('should refuse a cursor with NUL or of 10 KiB with 400', async () => {
      expectError(await get(`/events?topic=a&lastEventId=a%00b`), 400);
      expectError(await get(`/events?topic=a&lastEventId=${'9'.repeat(10240)}`), 400);
    });

    it('should answer an over-long query with a 4xx quickly', async () => {
      const status = await new Promise<number>((ok, fail) => {
        const req = request(`${gw.url}/events?topic=${'a'.repeat(70_000)}`, (res) => {
          res.resume();
          ok(res.statusCode ?? 0);
        });
        req.on('error', fail);
        req.end();
      });
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    });

    it('should answer 1,000 topics with a 400', async () => {
      const qs = Array.from({ length: 1000 }, (_, i) => `topic=t${i}`).join('&');
      expectError(await get(`/events?${qs}`), 400, /too many topics/);
    });
  });

  describe('POST /events', () => {
    it.each([
      ['a non-object body', [], /JSON object/],
      ['a string body', '"x"', /JSON object/],
      ['a missing topic', { type: 't', data: 1 }, /topic/],
      ['a pattern topic', { topic: 'a/*', data: 1 }, /patterns are not allowed/],
      ['a globstar topic', { topic: 'a/**', data: 1 }, /patterns are not allowed/],
      ['an empty-segment topic', { topic: 'a//b', data: 1 }, /empty segment/],
      ['a topic with LF', { topic: 'a\nb', data: 1 }, /characters outside/],
      ['a topic with CR', { topic: 'a\rb', data: 1 }, /characters outside/],
      ['a topic with NUL', { topic: 'a\u0000b', data: 1 }, /characters outside/],
      ['a type with LF', { topic: 'a', type: 'x\ny', data: 1 }, /type/],
      ['a type with CR', { topic: 'a', type: 'x\ry', data: 1 }, /type/],
      ['a type with NUL', { topic: 'a', type: 'x\u0000', data: 1 }, /type/],
      ['a type of 65 characters', { topic: 'a', type: 't'.repeat(65), data: 1 }, /type/],
      ['an empty type', { topic: 'a', type: '', data: 1 }, /type/],
      ['a reserved type', { topic: 'a', type: 'herald.reset', data: 1 }, /reserved/],
      ['a reserved type in other case', { topic: 'a', type: 'Herald.drain', data: 1 }, /reserved/],
      ['a missing data', { topic: 'a' }, /data/],
      ['an unknown field', { topic: 'a', data: 1, extra: true }, /unexpected field/],
      ['an empty batch', { events: [] }, /1\.\.100/],
      [
        'a batch of 101',
        { events: Array.from({ length: 101 }, () => ({ topic: 'a', data: 1 })) },
        /1\.\.100/,
      ],
      [
        'a batch with one bad event',
        {
          events: [
            { topic: 'a', data: 1 },
            { topic: 'b*', data: 1 },
          ],
        },
        /events\[1\]/,
      ],
      ['invalid JSON', '{"topic":', /not valid JSON/],
      ['an empty body', '', /empty/],
    ])('should refuse %s with 400', async (_name, body, message) => {
      const reply = await publish(gw.url, body);
      expectError(reply, 400, message);
    });

    it('should publish nothing from a batch with one bad event', async () => {
      const stream = await fetch(`${gw.url}/events?topic=batch/atomic`, {
        headers: { Accept: 'text/event-stream' },
      });
      const reader = stream.body!.getReader();
      await reader.read();
      expect(
        (
          await publish(gw.url, {
            events: [
              { topic: 'batch/atomic', data: 1 },
              { topic: '', data: 2 },
            ],
          })
        ).status,
      ).toBe(400);
      const ok = await publish(gw.url, { topic: 'batch/atomic', data: 'after' });
      const { value } = await reader.read();
      const text = new TextDecoder().decode(value as Uint8Array);
      expect(text).toContain(`id: ${ok.body.id as string}`);
      expect(text).not.toContain('data: 1');
      await reader.cancel();
    });

    it('should refuse data over MAX_EVENT_BYTES with 413', async () => {
      expectError(await publish(gw.url, { topic: 'a', data: 'x'.repeat(1100) }), 413, /1024/);
    });

    it('should refuse a body over the limit with 413 before reading it all', async () => {
      const size = 100 * 1024 * 1024;
      const status = await new Promise<number>((ok, fail) => {
        const req = request(
          `${gw.url}/events`,
          {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...bearer(PUBLISHER_TOKEN) },
          },
          (res) => {
            res.resume();
            ok(res.statusCode ?? 0);
            req.destroy();
          },
        );
        req.on('error', () => undefined);
        let sent = 0;
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (sent < size) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        req.write('{"topic":"a","data":"');
        pump();
        setTimeout(() => fail(new Error('no early 413')), 10_000);
      });
      expect(status).toBe(413);
    });

    it('should refuse a declared Content-Length over the limit with 413', async () => {
      const status = await new Promise<number>((ok, fail) => {
        const req = request(
          `${gw.url}/events`,
          {
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              ...bearer(PUBLISHER_TOKEN),
              'Content-Length': String(500 * 1024 * 1024),
            },
          },
          (res) => {
            res.resume();
            ok(res.statusCode ?? 0);
            req.destroy();
          },
        );
        req.on('error', fail);
        req.write('{');
      });
      expect(status).toBe(413);
    });

    it.each([
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
    ])('should refuse Content-Type %s with 415', async (type) => {
      const res = await fetch(`${gw.url}/events`, {
        method: 'POST',
        headers: type
          ? { 'Content-Type': type, ...bearer(PUBLISHER_TOKEN) }
          : bearer(PUBLISHER_TOKEN),
        body: type ? '{"topic":"a","data":1}' : new Blob(['{"topic":"a","data":1}']),
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
    });

    it('should return the first id for a repeated Idempotency-Key and 422 for another body', async () => {
      const first = await publish(
        gw.url,
        { topic: 'idem', data: 1 },
        { 'Idempotency-Key': 'abc-1' },
      );
      const again = await publish(
        gw.url,
        { topic: 'idem', data: 1 },
        { 'Idempotency-Key': 'abc-1' },
      );
      expect(first.status).toBe(202);
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
      const other = await publish(
        gw.url,
        { topic: 'idem', data: 2 },
        { 'Idempotency-Key': 'abc-1' },
      );
      expectError(other, 422, /Idempotency-Key/);
      expectError(
        await publish(gw.url, { topic: 'idem', data: 1 }, { 'Idempotency-Key': 'k'.repeat(129) }),
        400,
        /Idempotency-Key/,
      );
    });

    it('should answer a batch with ids in order', async () => {
      const reply = await publish(gw.url, {
        events: [
          { topic: 'b/1', data: 1 },
          { topic: 'b/2', type: 'x', data: null },
        ],
      });
      expect(reply.status).toBe(202);
      expect(reply.body.ids).toHaveLength(2);
    });
  });

  it('should answer unknown routes with a JSON 404', async () => {
    const res = await fetch(`${gw.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ statusCode: 404 });
  });
});

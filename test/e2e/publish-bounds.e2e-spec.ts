import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { sleep } from '../support/wait';

/** `data` nested `levels` containers deep (alternating objects and arrays), around `leaf`. */
function nested(levels: number, leaf: unknown = 'leaf'): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? { n: v } : [v];
  return v;
}

/** Exact publish boundaries: nesting depth, serialized size, batch length (CONTRACT section 2). */
describe('POST /events bounds', () => {
  const MAX_EVENT_BYTES = 1024;
  const MAX_EVENT_DEPTH = 64;
  let gw: Gateway;
  let stream: SseStream;

  beforeAll(async () => {
    gw = await startTestGateway({
      MAX_EVENT_BYTES: String(MAX_EVENT_BYTES),
      MAX_EVENT_DEPTH: String(MAX_EVENT_DEPTH),
      REDACT_KEYS: 'password',
    });
    stream = await openStream(gw.url, '/events?topic=bounds/**');
  });
  afterAll(async () => {
    await stream.close();
    await gw.app.close();
  });

  /** Waits until the event with this id arrived and returns its data text. */
  const delivered = async (id: string): Promise<string> => {
    for (let i = 0; i < 500; i++) {
      const found = stream.events.find((e) => e.id === id);
      if (found) return found.data;
      await sleep(10);
    }
    throw new Error(`event ${id} was not delivered`);
  };

  describe('nesting depth (MAX_EVENT_DEPTH)', () => {
    it('should refuse data nested 5,000 levels deep with 400 naming the depth, for one event and in a batch', async () => {
      // 5,000 levels (about 10 KB): built as text, since JSON.stringify itself overflows there.
      const deep = `${'['.repeat(5000)}"leaf"${']'.repeat(5000)}`;
      const one = await publish(gw.url, `{"topic":"bounds/deep","data":${deep}}`);
      expect(one.status).toBe(400);
      expect(one.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(one.body.message).toMatch(/nested more than \d+ levels/);
      const batch = await publish(
        gw.url,
        `{"events":[{"topic":"bounds/deep","data":1},{"topic":"bounds/deep","data":${deep}}]}`,
      );
      expect(batch.status).toBe(400);
      expect(batch.body.message).toMatch(/nested more than \d+ levels/);
    });

    it('should refuse data one level over the limit with 400, and accept and deliver data exactly at the limit', async () => {
      const over = await publish(gw.url, {
        topic: 'bounds/depth',
        data: nested(MAX_EVENT_DEPTH + 1),
      });
      expect(over.status).toBe(400);
      expect(over.body.message).toBe(
        `body: "data" is nested more than ${MAX_EVENT_DEPTH} levels deep (MAX_EVENT_DEPTH)`,
      );
      const overInBatch = await publish(gw.url, {
        events: [
          { topic: 'bounds/depth', data: nested(MAX_EVENT_DEPTH) },
          { topic: 'bounds/depth', data: nested(MAX_EVENT_DEPTH + 1) },
        ],
      });
      expect(overInBatch.status).toBe(400);
      expect(overInBatch.body.message).toMatch(
        /^events\[1\]: "data" is nested more than 64 levels/,
      );

      // The leaf object is the last of the MAX_EVENT_DEPTH levels.
      const atLimit = nested(MAX_EVENT_DEPTH - 1, { password: 'p', keep: 1 });
      const ok = await publish(gw.url, { topic: 'bounds/depth', data: atLimit });
      expect(ok.status).toBe(202);
      const data = JSON.parse(await delivered(ok.body.id as string)) as unknown;
      expect(data).toEqual(nested(MAX_EVENT_DEPTH - 1, { password: '[REDACTED]', keep: 1 }));

      const batch = await publish(gw.url, {
        events: [
          { topic: 'bounds/depth', data: nested(MAX_EVENT_DEPTH) },
          { topic: 'bounds/depth', data: nested(MAX_EVENT_DEPTH, 2) },
        ],
      });
      expect(batch.status).toBe(202);
      const ids = batch.body.ids as string[];
      expect(JSON.parse(await delivered(ids[1]))).toEqual(nested(MAX_EVENT_DEPTH, 2));
    });

    it('should keep serving after deep bodies (no 500, next publish accepted)', async () => {
      for (let i = 0; i < 5; i++) {
        const text = `{"topic":"bounds/deep","data":${'['.repeat(70_000)}${']'.repeat(70_000)}}`;
        const reply = await publish(gw.url, text);
        expect(reply.status).toBe(400);
      }
      expect((await publish(gw.url, { topic: 'bounds/deep', data: 'fine' })).status).toBe(202);
    });
  });

  describe('serialized size (MAX_EVENT_BYTES)', () => {
    // What is measured: the UTF-8 bytes of JSON.stringify(data) after redaction, which are exactly
    // the bytes stored and sent on the `data:` lines. A string of n ASCII characters is n + 2.
    it('should accept data of exactly MAX_EVENT_BYTES serialized bytes and refuse one byte more with 413', async () => {
      const exact = 'x'.repeat(MAX_EVENT_BYTES - 2);
      const ok = await publish(gw.url, { topic: 'bounds/size', data: exact });
      expect(ok.status).toBe(202);
      expect(await delivered(ok.body.id as string)).toBe(JSON.stringify(exact));
      const over = await publish(gw.url, { topic: 'bounds/size', data: `${exact}x` });
      expect(over.status).toBe(413);
      expect(over.body.message).toBe(
        `body: "data" is ${MAX_EVENT_BYTES + 1} bytes serialized (at most ${MAX_EVENT_BYTES})`,
      );
    });

    it('should count UTF-8 bytes, not characters, and measure after redaction', async () => {
      const twoByte = 'é'.repeat((MAX_EVENT_BYTES - 2) / 2);
      expect((await publish(gw.url, { topic: 'bounds/size', data: twoByte })).status).toBe(202);
      expect((await publish(gw.url, { topic: 'bounds/size', data: `${twoByte}x` })).status).toBe(
        413,
      );
      // 2,000 bytes before redaction, 23 after: what is stored is what counts.
      const redacted = await publish(gw.url, {
        topic: 'bounds/size',
        data: { password: 'p'.repeat(2000) },
      });
      expect(redacted.status).toBe(202);
      expect(await delivered(redacted.body.id as string)).toBe('{"password":"[REDACTED]"}');
    });
  });

  describe('batch length', () => {
    it('should accept and deliver a full batch of 100 events of MAX_EVENT_BYTES each', async () => {
      const data = (i: number) => `${String(i).padStart(3, '0')}${'y'.repeat(MAX_EVENT_BYTES - 5)}`;
      const events = Array.from({ length: 100 }, (_, i) => ({
        topic: 'bounds/batch',
        data: data(i),
      }));
      const reply = await publish(gw.url, { events });
      expect(reply.status).toBe(202);
      const ids = reply.body.ids as string[];
      expect(ids).toHaveLength(100);
      for (const [i, id] of ids.entries()) {
        expect(await delivered(id)).toBe(JSON.stringify(data(i)));
      }
    });

    it('should refuse a batch of 101 events with 400 and publish none of them', async () => {
      const before = stream.events.length;
      const events = Array.from({ length: 101 }, () => ({ topic: 'bounds/batch', data: 1 }));
      const reply = await publish(gw.url, { events });
      expect(reply.status).toBe(400);
      expect(reply.body.message).toBe('"events" must be an array of 1..100 events');
      const marker = await publish(gw.url, { topic: 'bounds/batch', data: 'marker' });
      await delivered(marker.body.id as string);
      expect(stream.events.length).toBe(before + 1);
    });
  });
});

import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HeraldTracing } from '@herald/telemetry';
import { startTestGateway, type Gateway } from '../support/gateway';
import { deleteKeys, redisUrlForTests, requireRedis, uniqueKeyPrefix } from '../support/redis';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { createWith, scrape, value } from '../support/telemetry';
import { sleep, waitFor } from '../support/wait';

/**
 * Two in-process gateways on one Redis key space, each with its own tracer: the trace context
 * and the publish time must travel through Redis (live and replayed), so B's delivery latency,
 * replay counters and spans work for events published on A.
 */
describe('Telemetry with the Redis broker', () => {
  const redisReady = requireRedis();
  const prefix = uniqueKeyPrefix('telemetry');
  const exporterA = new InMemorySpanExporter();
  const exporterB = new InMemorySpanExporter();
  let a: Gateway | undefined;
  let b: Gateway | undefined;
  const streams: SseStream[] = [];

  const start = (exporter: InMemorySpanExporter, instance: string) => {
    const tracing = new HeraldTracing({ driver: 'exporter', exporter, instanceId: instance });
    return startTestGateway(
      {
        INSTANCE_ID: instance,
        BROKER: 'redis',
        REDIS_URL: redisUrlForTests(),
        REDIS_KEY_PREFIX: prefix,
        INGEST_STREAM: `${prefix}ingest`,
      },
      { create: createWith((m) => m.overrideProvider(HeraldTracing).useValue(tracing)) },
    );
  };
  const spans = (exporter: InMemorySpanExporter, name: string): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.name === name);
  const open = async (base: string, path: string, headers?: Record<string, string>) => {
    const s = await openStream(base, path, { headers });
    streams.push(s);
    return s;
  };

  beforeAll(async () => {
    if (!redisReady()) return;
    a = await start(exporterA, 'instance-a');
    b = await start(exporterB, 'instance-b');
    for (const g of [a, b]) {
      await waitFor(async () => (await fetch(`${g.url}/health/ready`)).ok, 'ready', 10_000, 50);
    }
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) await s.close();
  });
  afterAll(async () => {
    await b?.app.close();
    await a?.app.close();
    await deleteKeys(prefix);
  });

  it('should put a publish on A and its delivery and replay on B in one trace', async () => {
    const [ga, gb] = [a as Gateway, b as Gateway];
    const s = await open(gb.url, '/events?topic=traced/1');
    await sleep(200);
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const marker = await publish(ga.url, { topic: 'traced/1', data: { n: 0 } });
    const r = await publish(ga.url, { topic: 'traced/1', data: { n: 1 } }, { traceparent: caller });
    expect(r.status).toBe(202);
    await s.waitForEvents(2);

    const [published] = await waitFor(() => {
      const found = spans(exporterA, 'herald.publish').filter(
        (p) => p.spanContext().traceId === '0af7651916cd43dd8448eb211c80319c',
      );
      return found.length > 0 ? found : undefined;
    }, 'publish span on A');
    expect(published.parentSpanContext?.spanId).toBe('b7ad6b7169203331');

    const delivered = await waitFor(() => {
      const found = spans(exporterB, 'herald.deliver').find(
        (d) => d.spanContext().traceId === published.spanContext().traceId,
      );
      return found;
    }, 'deliver span on B in the publish trace');
    expect(delivered.parentSpanContext?.spanId).toBe(published.spanContext().spanId);
    expect(delivered.resource.attributes['service.instance.id']).toBe('instance-b');

    // Resume on B from the marker: the first replayed event is the traced one.
    const resumed = await open(gb.url, '/events?topic=traced/1', {
      'Last-Event-ID': marker.body.id as string,
    });
    await resumed.waitForEvents(1);
    expect(resumed.events[0].id).toBe(r.body.id);
    const replay = await waitFor(() => spans(exporterB, 'herald.replay')[0], 'replay span on B');
    expect(replay.attributes['herald.replay.result']).toBe('ok');
    expect(replay.spanContext().traceId).toBe(published.spanContext().traceId);
  });

  it('should count delivery latency and replays on B when events come from A', async () => {
    const [ga, gb] = [a as Gateway, b as Gateway];
    const before = await scrape(gb.url);
    const s = await open(gb.url, '/events?topic=latency/1');
    await sleep(200);
    const first = await publish(ga.url, { topic: 'latency/1', data: 1 });
    await publish(ga.url, { topic: 'latency/1', data: 2 });
    await s.waitForEvents(2);

    const ok = await open(gb.url, '/events?topic=latency/1', {
      'Last-Event-ID': first.body.id as string,
    });
    await ok.waitForEvents(1);
    const unknownEpoch = (first.body.id as string).replace(/^r\.[^.]+\./, 'r.zzzz.');
    const reset = await open(gb.url, '/events?topic=latency/1', { 'Last-Event-ID': unknownEpoch });
    await reset.waitForEvents(1);
    expect(reset.events[0]).toMatchObject({ event: 'herald.reset' });
    expect(JSON.parse(reset.events[0].data)).toEqual({ reason: 'unknown-cursor' });

    const after = await waitFor(async () => {
      const now = await scrape(gb.url);
      return value(now, 'herald_delivery_latency_seconds_count') >
        value(before, 'herald_delivery_latency_seconds_count')
        ? now
        : undefined;
    }, 'a delivery latency sample on B');
    const delta = (name: string, labels?: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    expect(delta('herald_replays_total', { result: 'ok' })).toBe(1);
    expect(delta('herald_replays_total', { result: 'unknown-cursor' })).toBe(1);
    expect(delta('herald_events_delivered_total')).toBeGreaterThanOrEqual(3);
  });

  it('should count ingest-stream publishes like POST /events when an entry is XADDed', async () => {
    const [ga, gb] = [a as Gateway, b as Gateway];
    const published = async () =>
      value(await scrape(ga.url), 'herald_events_published_total') +
      value(await scrape(gb.url), 'herald_events_published_total');
    const before = await published();
    const s = await open(gb.url, '/events?topic=ingested/1');
    await sleep(200);
    const redis = new Redis(redisUrlForTests());
    try {
      await redis.xadd(`${prefix}ingest`, '*', 'topic', 'ingested/1', 'data', '{"n":1}');
    } finally {
      redis.disconnect();
    }
    await s.waitForEvents(1, 10_000);
    await waitFor(async () => (await published()) === before + 1, 'one published event counted');
  });
});

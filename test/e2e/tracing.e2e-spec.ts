import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '@herald/broker';
import { HeraldTracing } from '@herald/telemetry';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish } from '../support/sse-client';
import { createWith } from '../support/telemetry';
import { waitFor } from '../support/wait';

/**
 * One gateway (memory broker) with an in-memory exporter: a publish, its delivery and a replay
 * share one trace, carried inside the event. The same across two instances through a real Redis
 * is test/integration/redis.telemetry.int-spec.ts ("should put a publish on A and its delivery
 * and replay on B in one trace").
 */
describe('HeraldTracing', () => {
  const exporter = new InMemorySpanExporter();
  let gw: Gateway;

  beforeAll(async () => {
    const tracing = new HeraldTracing({ driver: 'exporter', exporter, instanceId: 'instance-a' });
    gw = await startTestGateway(
      { INSTANCE_ID: 'instance-a' },
      { create: createWith((m) => m.overrideProvider(HeraldTracing).useValue(tracing)) },
    );
  });
  afterAll(async () => {
    await gw.app.close();
  });

  const spans = (name: string): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.name === name);

  it('should put a publish, its delivery and its replay in one trace', async () => {
    const s = await openStream(gw.url, '/events?topic=traced/1');
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const r = await publish(gw.url, { topic: 'traced/1', data: { n: 1 } }, { traceparent: caller });
    expect(r.status).toBe(202);
    await s.waitForEvents(1);

    const [published] = await waitFor(() => {
      const found = spans('herald.publish');
      return found.length > 0 ? found : undefined;
    }, 'publish span');
    // The caller's traceparent is the publish span's parent.
    expect(published.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(published.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(published.resource.attributes['service.instance.id']).toBe('instance-a');

    const [delivered] = await waitFor(() => {
      const found = spans('herald.deliver');
      return found.length > 0 ? found : undefined;
    }, 'deliver span');
    expect(delivered.spanContext().traceId).toBe(published.spanContext().traceId);
    expect(delivered.parentSpanContext?.spanId).toBe(published.spanContext().spanId);
    expect(delivered.resource.attributes['service.instance.id']).toBe('instance-a');

    // A resume replays the event: the replay span joins the same trace.
    const resumed = await openStream(gw.url, '/events?topic=traced/1', {
      headers: {
        'Last-Event-ID': gw.app
          .get(Broker)
          .nowCursor()
          .replace(/\.\d+$/, '.0'),
      },
    });
    await resumed.waitForEvents(1);
    const [replay] = await waitFor(() => {
      const found = spans('herald.replay');
      return found.length > 0 ? found : undefined;
    }, 'replay span');
    expect(replay.attributes['herald.replay.result']).toBe('ok');
    expect(replay.spanContext().traceId).toBe(published.spanContext().traceId);
    await resumed.close();
    await s.close();
  });

  it('should start a new trace per publish when the caller sends no traceparent', async () => {
    exporter.reset();
    await publish(gw.url, { topic: 'traced/2', data: 1 });
    await publish(gw.url, { topic: 'traced/2', data: 2 });
    const found = await waitFor(() => {
      const list = spans('herald.publish');
      return list.length >= 2 ? list : undefined;
    }, 'two publish spans');
    expect(found[0].spanContext().traceId).not.toBe(found[1].spanContext().traceId);
    expect(found[0].parentSpanContext).toBeUndefined();
  });
});

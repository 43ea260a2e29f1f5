import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, InMemoryBroker } from '@herald/broker';
import { HeraldTracing } from '@herald/telemetry';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish } from '../support/sse-client';
import { createWith } from '../support/telemetry';
import { waitFor } from '../support/wait';

/**
 * Two gateways in one process share one in-memory broker (standing in for Redis), each with its
 * own tracer and in-memory exporter: the trace context must travel inside the event.
 */
describe('HeraldTracing', () => {
  const broker = new InMemoryBroker({ historySize: 100, historyTtlMs: 60_000 });
  const exporterA = new InMemorySpanExporter();
  const exporterB = new InMemorySpanExporter();
  let a: Gateway;
  let b: Gateway;

  const start = (exporter: InMemorySpanExporter, instance: string) => {
    const tracing = new HeraldTracing({ driver: 'exporter', exporter, instanceId: instance });
    return startTestGateway(
      { INSTANCE_ID: instance },
      {
        create: createWith((m) =>
          m
            .overrideProvider(Broker)
            .useValue(broker)
            .overrideProvider(HeraldTracing)
            .useValue(tracing),
        ),
      },
    );
  };

  beforeAll(async () => {
    a = await start(exporterA, 'instance-a');
    b = await start(exporterB, 'instance-b');
  });
  afterAll(async () => {
    await b.app.close();
    await a.app.close();
  });

  const spans = (exporter: InMemorySpanExporter, name: string): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.name === name);

  it('should put a publish on A and its delivery and replay on B in one trace', async () => {
    const s = await openStream(b.url, '/events?topic=traced/1');
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const r = await publish(a.url, { topic: 'traced/1', data: { n: 1 } }, { traceparent: caller });
    expect(r.status).toBe(202);
    await s.waitForEvents(1);

    const [published] = await waitFor(() => {
      const found = spans(exporterA, 'herald.publish');
      return found.length > 0 ? found : undefined;
    }, 'publish span on A');
    // The caller's traceparent is the publish span's parent.
    expect(published.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(published.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(published.resource.attributes['service.instance.id']).toBe('instance-a');

    const [delivered] = await waitFor(() => {
      const found = spans(exporterB, 'herald.deliver');
      return found.length > 0 ? found : undefined;
    }, 'deliver span on B');
    expect(delivered.spanContext().traceId).toBe(published.spanContext().traceId);
    expect(delivered.parentSpanContext?.spanId).toBe(published.spanContext().spanId);
    expect(delivered.resource.attributes['service.instance.id']).toBe('instance-b');
    expect(spans(exporterA, 'herald.deliver')).toHaveLength(0);

    // A resume on B replays the event: the replay span joins the same trace.
    const resumed = await openStream(b.url, '/events?topic=traced/1', {
      headers: {
        'Last-Event-ID': b.app
          .get(Broker)
          .nowCursor()
          .replace(/\.\d+$/, '.0'),
      },
    });
    await resumed.waitForEvents(1);
    const [replay] = await waitFor(() => {
      const found = spans(exporterB, 'herald.replay');
      return found.length > 0 ? found : undefined;
    }, 'replay span on B');
    expect(replay.attributes['herald.replay.result']).toBe('ok');
    expect(replay.spanContext().traceId).toBe(published.spanContext().traceId);
    await resumed.close();
    await s.close();
  });

  it('should start a new trace per publish when the caller sends no traceparent', async () => {
    exporterA.reset();
    await publish(a.url, { topic: 'traced/2', data: 1 });
    await publish(a.url, { topic: 'traced/2', data: 2 });
    const found = await waitFor(() => {
      const list = spans(exporterA, 'herald.publish');
      return list.length >= 2 ? list : undefined;
    }, 'two publish spans');
    expect(found[0].spanContext().traceId).not.toBe(found[1].spanContext().traceId);
    expect(found[0].parentSpanContext).toBeUndefined();
  });
});

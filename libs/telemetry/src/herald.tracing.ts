import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { parseTraceParent } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** Tracing options, discriminated on `driver`. */
export type TracingOptions =
  | { readonly driver: 'off' }
  /** OTLP over HTTP; the exporter also reads the standard `OTEL_EXPORTER_OTLP_*` variables. */
  | { readonly driver: 'otlp'; readonly endpoint: string; readonly instanceId: string }
  /** A given exporter, spans exported one by one (tests: `InMemorySpanExporter`). */
  | { readonly driver: 'exporter'; readonly exporter: SpanExporter; readonly instanceId: string };

/** A publish span in progress: its W3C `traceparent` travels inside the events. */
export interface PublishSpan {
  readonly traceparent: string;
  end(error?: unknown, attributes?: Readonly<Record<string, number | string | boolean>>): void;
}

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** True when `value` is a well-formed W3C `traceparent` (version 00). */
export function isTraceparent(value: string | undefined): value is string {
  return value !== undefined && TRACEPARENT.test(value);
}

/**
 * OpenTelemetry tracing for Herald: one span per publish, per replay and per delivery batch.
 * The publish span's context is carried in the event (`BrokerEvent.traceparent`), so a delivery
 * on any instance joins the publish's trace. With `driver: 'off'` every method returns at once.
 * Owns its tracer provider (nothing global), so several gateways can run in one process.
 */
export class HeraldTracing {
  /** False when tracing is off: callers may skip building span data. */
  readonly enabled: boolean;
  private readonly tracer: Tracer | undefined;
  private readonly provider: BasicTracerProvider | undefined;

  constructor(options: TracingOptions) {
    let processor: SpanProcessor;
    switch (options.driver) {
      case 'off':
        this.enabled = false;
        return;
      case 'otlp':
        processor = new BatchSpanProcessor(
          new OTLPTraceExporter({ url: tracesUrl(options.endpoint) }),
        );
        break;
      case 'exporter':
        processor = new SimpleSpanProcessor(options.exporter);
        break;
    }
    this.enabled = true;
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        'service.name': 'herald',
        'service.instance.id': options.instanceId,
      }),
      spanProcessors: [processor],
    });
    this.tracer = this.provider.getTracer('herald');
  }

  /** Starts `herald.publish` (child of `parent` when given); `undefined` when tracing is off. */
  startPublish(parent: string | undefined, events: number): PublishSpan | undefined {
    if (!this.tracer) return undefined;
    const span = this.tracer.startSpan(
      'herald.publish',
      { kind: SpanKind.PRODUCER, attributes: { 'messaging.batch.message_count': events } },
      contextOf(parent),
    );
    return {
      traceparent: traceparentOf(span),
      end(error, attributes) {
        if (attributes) span.setAttributes(attributes);
        if (error !== undefined) {
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: error instanceof Error ? error.name : 'error',
          });
        }
        span.end();
      },
    };
  }

  /**
   * Records `herald.deliver` for a flush that wrote `events` events, the first carrying
   * `traceparent` (the publish's context, so the span joins the publish's trace).
   */
  recordDelivery(traceparent: string | undefined, events: number, latencyMs: number): void {
    if (!this.tracer) return;
    this.tracer
      .startSpan(
        'herald.deliver',
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'messaging.batch.message_count': events,
            'herald.delivery_latency_ms': latencyMs,
          },
        },
        contextOf(traceparent),
      )
      .end();
  }

  /** Records `herald.replay` from `startTime` to now with its result. */
  recordReplay(startTime: number, result: string, traceparent?: string): void {
    if (!this.tracer) return;
    this.tracer
      .startSpan(
        'herald.replay',
        { kind: SpanKind.INTERNAL, startTime, attributes: { 'herald.replay.result': result } },
        contextOf(traceparent),
      )
      .end();
  }

  /** Flushes and stops the exporter. */
  async shutdown(): Promise<void> {
    await this.provider?.shutdown();
  }
}

function contextOf(traceparent: string | undefined): Context {
  if (!isTraceparent(traceparent)) return ROOT_CONTEXT;
  const spanContext = parseTraceParent(traceparent);
  return spanContext ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT;
}

function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return `00-${c.traceId}-${c.spanId}-${c.traceFlags.toString(16).padStart(2, '0')}`;
}

/** The OTLP/HTTP traces URL for a base endpoint (`http://collector:4318`). */
function tracesUrl(endpoint: string): string {
  return endpoint.endsWith('/v1/traces') ? endpoint : `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

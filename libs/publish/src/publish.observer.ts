import type { PublishResult } from '@herald/broker';
import type { PublishContext } from './publish.service';

/** One publish call being observed (a span, counters). */
export interface PublishObservation {
  /** Trace context to carry inside the events instead of the caller's, if any. */
  readonly traceparent?: string;
  /** The broker stored `events` events (or found a duplicate). */
  succeeded(events: number, result: PublishResult): void;
  /** Nothing was published: a validation error (PublishError) or a broker failure. */
  failed(error: unknown): void;
}

/**
 * Observation port of publishing (metrics, traces), required: an app provides it
 * (`@herald/server`'s `ObservabilityModule` binds metrics and traces; an app that observes
 * nothing provides one whose `begin` returns undefined).
 */
export abstract class PublishObserver {
  /** Called once per publish call, before validation. */
  abstract begin(context: PublishContext): PublishObservation | undefined;
}

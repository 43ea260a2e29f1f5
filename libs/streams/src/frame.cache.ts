import type { BrokerEvent } from '@herald/broker';
import { frameEvent } from './sse.frame';

const frames = new WeakMap<BrokerEvent, Buffer>();

/** The SSE frame of a broker event, built once per event and shared by every subscriber. */
export function frameOf(event: BrokerEvent): Buffer {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = frameEvent(event.id, event.type, event.data);
    frames.set(event, frame);
  }
  return frame;
}

/**
 * Registers the bytes a stream of another dialect writes for `event` (instead of Herald's
 * framing): call once per event object, before handing the same object to every subscriber.
 */
export function withFrame<E extends BrokerEvent>(event: E, frame: Buffer): E {
  frames.set(event, frame);
  return event;
}

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

const chunks = new WeakMap<Buffer, Buffer>();

/**
 * `frame` as one HTTP/1.1 chunk (size line, the frame, CRLF) in a single Buffer, built once per
 * frame and shared by every connection that writes it: a one-event flush is then one
 * `socket.write` with no per-connection allocation.
 */
export function chunkOf(frame: Buffer): Buffer {
  let chunk = chunks.get(frame);
  if (chunk === undefined) {
    const head = `${frame.length.toString(16)}\r\n`;
    chunk = Buffer.allocUnsafe(head.length + frame.length + 2);
    chunk.write(head, 0, 'latin1');
    frame.copy(chunk, head.length);
    chunk.write('\r\n', head.length + frame.length, 'latin1');
    chunks.set(frame, chunk);
  }
  return chunk;
}

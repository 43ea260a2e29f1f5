import type { BrokerEvent } from '@herald/broker';
import { frameEventText } from './sse.frame';

const frames = new WeakMap<BrokerEvent, Buffer>();
/** Each frame's HTTP/1.1 chunk (see {@link chunkOf}). */
const chunks = new WeakMap<Buffer, Buffer>();

/**
 * The SSE frame of a broker event, built once per event and shared by every subscriber. The
 * frame is a view into its own HTTP/1.1 chunk ({@link chunkOf}), so an event kept in history
 * holds its bytes once, not once framed and once chunked.
 */
export function frameOf(event: BrokerEvent): Buffer {
  let frame = frames.get(event);
  if (frame === undefined) {
    // Encoded straight into its chunk: a transient frame Buffer from Node's shared pool would sit
    // next to the chunk in the same slab and stay alive with it (about twice the bytes held).
    frame = textInChunk(frameEventText(event.id, event.type, event.data));
    frames.set(event, frame);
  }
  return frame;
}

/**
 * Registers the bytes a stream of another dialect writes for `event` (instead of Herald's
 * framing): call once per event object, before handing the same object to every subscriber.
 * Prefer passing the frame as text (UTF-8): it is encoded straight into its chunk, while a
 * Buffer is copied there, and a small transient Buffer stays alive with the chunk in Node's
 * shared pool slab.
 */
export function withFrame<E extends BrokerEvent>(event: E, frame: Buffer | string): E {
  frames.set(event, typeof frame === 'string' ? textInChunk(frame) : inChunk(frame));
  return event;
}

/** `text` (UTF-8) encoded into its HTTP/1.1 chunk, returned as the view of its bytes there. */
function textInChunk(text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  const head = `${length.toString(16)}\r\n`;
  const chunk = Buffer.allocUnsafe(head.length + length + 2);
  chunk.write(head, 0, 'latin1');
  chunk.write(text, head.length, 'utf8');
  chunk.write('\r\n', head.length + length, 'latin1');
  const frame = chunk.subarray(head.length, head.length + length);
  chunks.set(frame, chunk);
  return frame;
}

/** `body` copied into its HTTP/1.1 chunk, returned as the view of the body's bytes there. */
function inChunk(body: Buffer): Buffer {
  const chunk = chunkBytes(body);
  const start = chunk.length - body.length - 2;
  const frame = chunk.subarray(start, start + body.length);
  chunks.set(frame, chunk);
  return frame;
}

/**
 * `frame` as one HTTP/1.1 chunk (size line, the frame, CRLF) in a single Buffer, built once per
 * frame and shared by every connection that writes it: a one-event flush is then one
 * `socket.write` with no per-connection allocation.
 */
export function chunkOf(frame: Buffer): Buffer {
  let chunk = chunks.get(frame);
  if (chunk === undefined) {
    chunk = chunkBytes(frame);
    chunks.set(frame, chunk);
  }
  return chunk;
}

/** A copy of `frame` inside one HTTP/1.1 chunk: size line, the frame, CRLF. */
function chunkBytes(frame: Buffer): Buffer {
  const head = `${frame.length.toString(16)}\r\n`;
  const chunk = Buffer.allocUnsafe(head.length + frame.length + 2);
  chunk.write(head, 0, 'latin1');
  frame.copy(chunk, head.length);
  chunk.write('\r\n', head.length + frame.length, 'latin1');
  return chunk;
}

/** Flushes of more bytes than this are written as they are (corked), not joined. */
export const MAX_JOINED_BYTES = 16 * 1024;

/** The last joined flush: the connections of one fan-out queue the same frames, in order. */
let joinedFrames: readonly Buffer[] = [];
let joinedChunked = false;
let joined: Buffer | undefined;

/**
 * Several queued frames as one Buffer (inside one HTTP chunk when `chunked`), so a multi-event
 * flush is a single `socket.write`. The connections of a fan-out flush the same frames one after
 * another in a run, so the last join is kept and handed to every flush of exactly those frames
 * (compared by identity): one copy per run, not per connection. `bytes` is the frames' total
 * length, at most {@link MAX_JOINED_BYTES}.
 */
export function joinedOf(frames: readonly Buffer[], bytes: number, chunked: boolean): Buffer {
  if (joined !== undefined && chunked === joinedChunked && sameFrames(frames, joinedFrames)) {
    return joined;
  }
  const head = chunked ? `${bytes.toString(16)}\r\n` : '';
  const out = Buffer.allocUnsafe(head.length + bytes + (chunked ? 2 : 0));
  let at = head.length > 0 ? out.write(head, 0, 'latin1') : 0;
  for (const frame of frames) at += frame.copy(out, at);
  if (chunked) out.write('\r\n', at, 'latin1');
  joinedFrames = frames;
  joinedChunked = chunked;
  joined = out;
  return out;
}

function sameFrames(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

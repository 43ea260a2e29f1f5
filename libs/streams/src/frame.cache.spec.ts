import { describe, expect, it } from 'vitest';
import type { BrokerEvent } from '@herald/broker';
import { chunkOf, frameOf, withFrame } from './frame.cache';

const event = (id: string, data: string): BrokerEvent => ({
  kind: 'event',
  id,
  topic: 't',
  type: 'message',
  data,
  publishedAt: 0,
});

describe('frame cache', () => {
  it('frames an event once and keeps its bytes once: the frame is a view into its chunk', () => {
    const e = event('1-0', 'hello');
    const frame = frameOf(e);
    expect(frameOf(e)).toBe(frame);
    expect(frame.toString()).toBe('id: 1-0\nevent: message\ndata: hello\n\n');
    const chunk = chunkOf(frame);
    expect(chunkOf(frame)).toBe(chunk);
    expect(chunk.toString()).toBe(`${frame.length.toString(16)}\r\n${frame.toString()}\r\n`);
    // Same memory: no second copy of the frame's bytes is held for the event.
    expect(frame.buffer).toBe(chunk.buffer);
    expect(frame.byteOffset).toBe(chunk.byteOffset + chunk.length - frame.length - 2);
  });

  it('a dialect frame registered with withFrame is chunked the same way', () => {
    const e = withFrame(event('2-0', 'x'), Buffer.from('data: mercure\n\n'));
    const frame = frameOf(e);
    expect(frame.toString()).toBe('data: mercure\n\n');
    const chunk = chunkOf(frame);
    expect(chunk.toString()).toBe('f\r\ndata: mercure\n\n\r\n');
    expect(frame.buffer).toBe(chunk.buffer);
    expect(frame.byteOffset).toBe(chunk.byteOffset + 3);
  });

  it('a frame it did not build is chunked on first use, once', () => {
    const frame = Buffer.from('event: x\ndata: 1\n\n');
    const chunk = chunkOf(frame);
    expect(chunkOf(frame)).toBe(chunk);
    expect(chunk.toString()).toBe(`12\r\n${frame.toString()}\r\n`);
  });
});

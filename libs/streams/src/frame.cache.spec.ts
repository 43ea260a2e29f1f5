import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

describe('frame cache memory', () => {
  it('keeps about one copy of each small frame alive for an event held in history', () => {
    // Under 4 KiB, Buffers are slices of Node's shared 8 KiB pool: a transient copy made next to
    // the retained one keeps its share of the slab alive with it.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const kept: BrokerEvent[] = [];
    gc();
    const before = process.memoryUsage().arrayBuffers;
    let bytes = 0;
    for (let i = 0; i < 5_000; i++) {
      const e = event(`9-${i}`, JSON.stringify('x'.repeat(1_000)));
      bytes += frameOf(e).length;
      kept.push(e);
    }
    gc();
    gc();
    const retained = process.memoryUsage().arrayBuffers - before;
    expect(kept.every((e) => frameOf(e).length > 1_000)).toBe(true);
    // One chunk per frame is about 1.0-1.15x the frame bytes; a dead copy beside each is 2x+.
    expect(retained / bytes).toBeLessThan(1.5);
  });
});

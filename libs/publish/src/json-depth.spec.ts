import { describe, expect, it } from 'vitest';
import { jsonDepth, jsonTextDepth } from './json-depth';

function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? { a: v } : [v];
  return v;
}

describe('jsonDepth', () => {
  it('should count containers: scalar 0, empty container 1, nested containers one level each', () => {
    expect(jsonDepth('x', 10)).toBe(0);
    expect(jsonDepth(null, 10)).toBe(0);
    expect(jsonDepth({}, 10)).toBe(1);
    expect(jsonDepth([], 10)).toBe(1);
    expect(jsonDepth({ a: [1, { b: 2 }], c: 'x' }, 10)).toBe(3);
    expect(jsonDepth(nested(64), 64)).toBe(64);
  });

  it('should stop at max + 1 without overflowing the stack when nested 100,000 levels deep', () => {
    expect(jsonDepth(nested(65), 64)).toBe(65);
    expect(jsonDepth(nested(100_000), 64)).toBe(65);
  });
});

describe('jsonTextDepth', () => {
  it('should agree with the parsed depth and ignore brackets inside strings', () => {
    for (const value of [1, {}, [[]], { a: '[[{{', b: ['\\"[', { c: null }] }, nested(64)]) {
      const text = JSON.stringify(value);
      expect(jsonTextDepth(text, 100)).toBe(jsonDepth(JSON.parse(text), 100));
    }
  });

  it('should stop at max + 1 on a text nested 1,000,000 levels deep', () => {
    expect(jsonTextDepth('['.repeat(1_000_000) + ']'.repeat(1_000_000), 64)).toBe(65);
  });
});

import { describe, expect, it } from 'vitest';
import { parseTopicFilter } from './topic.filter';
import { TopicIndex } from './topic.index';

const collect = (index: TopicIndex<string>, topic: string) => {
  const out: string[] = [];
  index.forEachMatch(topic, (e) => out.push(e));
  return out.sort();
};

describe('TopicIndex', () => {
  it('should find entries by concrete topic and by pattern', () => {
    const index = new TopicIndex<string>();
    index.add(parseTopicFilter('a/b'), 'exact');
    index.add(parseTopicFilter('a/*'), 'star');
    index.add(parseTopicFilter('a/**'), 'rest');
    index.add(parseTopicFilter('*/b'), 'lead');
    index.add(parseTopicFilter('x/**'), 'other');
    expect(collect(index, 'a/b')).toEqual(['exact', 'lead', 'rest', 'star']);
    expect(collect(index, 'a')).toEqual(['rest']);
    expect(collect(index, 'a/b/c')).toEqual(['rest']);
    expect(collect(index, 'z')).toEqual([]);
  });

  it('should forget entries and prune empty nodes when deleted', () => {
    const index = new TopicIndex<string>();
    const filters = ['a/b', 'a/*', 'a/**', '*/*/c'].map((s) => parseTopicFilter(s));
    for (const f of filters) index.add(f, 'e');
    expect(index.size).toBe(4);
    for (const f of filters) index.delete(f, 'e');
    expect(index.size).toBe(0);
    expect(collect(index, 'a/b')).toEqual([]);
    expect(collect(index, 'x/y/c')).toEqual([]);
  });

  it('should not visit non-matching patterns on lookup', () => {
    const index = new TopicIndex<number>();
    for (let i = 0; i < 10_000; i++) index.add(parseTopicFilter(`p${i}/*`), i);
    let calls = 0;
    index.forEachMatch('p7/x', () => calls++);
    expect(calls).toBe(1);
  });
});

describe('TopicIndex and internal topics', () => {
  it('should hand an internal topic ($...) to its exact entries only, never to wildcards', () => {
    const index = new TopicIndex<string>();
    index.add(parseTopicFilter('**'), 'all');
    index.add(parseTopicFilter('*'), 'one');
    index.add({ raw: '$mercure', kind: 'topic', segments: ['$mercure'] }, 'hub');
    expect(collect(index, '$mercure')).toEqual(['hub']);
    expect(collect(index, 'orders')).toEqual(['all', 'one']);
  });
});

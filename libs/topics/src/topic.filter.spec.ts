import { describe, expect, it } from 'vitest';
import { TopicSyntaxError, filterCovers, filterMatches, parseTopicFilter } from './topic.filter';

const p = (s: string) => parseTopicFilter(s);

describe('parseTopicFilter', () => {
  it.each([
    'a',
    'orders/42',
    'a.b~c:d@e-f_g',
    'x/'.repeat(127) + 'y',
    'a/*',
    'a/**',
    '**',
    '*',
    '*/b/*',
  ])('should accept %s', (s) => {
    expect(parseTopicFilter(s).raw).toBe(s);
  });

  it.each([
    '',
    '/',
    'a//b',
    'a/',
    '/a',
    'a/**/b',
    'a/b*',
    'a b',
    'a\nb',
    'a\rb',
    'a\u0000b',
    'аdmin',
    'a/%2E',
    'a'.repeat(257),
    '***',
  ])('should refuse %j', (s) => {
    expect(() => parseTopicFilter(s)).toThrow(TopicSyntaxError);
  });

  it('should refuse patterns when they are not allowed', () => {
    expect(() => parseTopicFilter('a/*', false)).toThrow(/patterns are not allowed/);
    expect(parseTopicFilter('a/b', false).kind).toBe('topic');
  });
});

describe('filterMatches', () => {
  it.each([
    ['a/*', 'a/b', true],
    ['a/*', 'a', false],
    ['a/*', 'a/b/c', false],
    ['a/**', 'a', true],
    ['a/**', 'a/b/c', true],
    ['a/**', 'ab', false],
    ['**', 'x/y', true],
    ['*/b', 'x/b', true],
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
  ])('should match %s against %s: %s', (filter, topic, expected) => {
    expect(filterMatches(p(filter), topic.split('/'))).toBe(expected);
  });
});

describe('filterCovers', () => {
  it.each([
    ['orders/*', 'orders/42', true],
    ['orders/*', 'orders/*', true],
    ['orders/*', 'orders/**', false],
    ['orders/*', 'orders/42/x', false],
    ['orders/**', 'orders', true],
    ['orders/**', 'orders/*/x', true],
    ['orders/**', 'orders/**', true],
    ['orders/**', '**', false],
    ['orders/**', 'ordersx', false],
    ['*/x', 'a/x', true],
    ['*/x', '*/x', true],
    ['*/x', '*/*', false],
    ['a/b', 'a/*', false],
    ['a/b', 'a/b', true],
    ['a/b', 'A/b', false],
    ['**', 'anything/at/all', true],
  ])('grant %s covers %s: %s', (grant, requested, expected) => {
    expect(filterCovers(p(grant), p(requested))).toBe(expected);
  });
});

describe('internal topics ($...)', () => {
  it('should never be matched by a wildcard, only by their exact name', () => {
    const internal = ['$mercure'];
    expect(() => parseTopicFilter('$mercure')).toThrow(TopicSyntaxError);
    expect(filterMatches(p('**'), internal)).toBe(false);
    expect(filterMatches(p('*'), internal)).toBe(false);
    expect(filterMatches({ raw: '$mercure', kind: 'topic', segments: internal }, internal)).toBe(
      true,
    );
  });
});

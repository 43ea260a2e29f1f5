import { describe, expect, it } from 'vitest';
import { parseTopicFilter } from '@herald/topics';
import { AuthError, AuthErrorCode } from './auth.errors';
import { compileGrants, type Principal } from './principal';
import { TopicPermissionPolicy } from './topic-permission.policy';

const principal = (subscribe: string[], publish: string[] = [], sub = 'alice'): Principal => ({
  sub,
  anonymous: false,
  subscribe: compileGrants(subscribe, sub),
  publish: compileGrants(publish, sub),
  presence: [],
  admin: false,
  expiresAt: undefined,
  issuedAt: undefined,
});

const code = (fn: () => void): AuthErrorCode | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof AuthError) return err.code;
    throw err;
  }
};

describe('TopicPermissionPolicy', () => {
  it.each([
    [['a/*'], ['a/b'], true],
    [['a/*'], ['a/*'], true],
    [['a/*'], ['a/**'], false],
    [['a/*'], ['a'], false],
    [['a/**'], ['a'], true],
    [['a/**'], ['a/*/c', 'a/**'], true],
    [['a/*/c'], ['a/*/*'], false],
    [['a/b', 'c/**'], ['a/b', 'c/d/e'], true],
    [['a/b', 'c/**'], ['a/b', 'x'], false],
    [['**'], ['anything/at/all/**'], true],
    [[], ['a'], false],
  ])('should decide %j covers %j: %s', (granted, requested, allowed) => {
    const p = principal(granted);
    const result = code(() =>
      TopicPermissionPolicy.assertSubscribe(
        p,
        requested.map((r) => parseTopicFilter(r)),
      ),
    );
    expect(result).toBe(allowed ? undefined : AuthErrorCode.TopicNotPermitted);
  });

  it('should answer missing-token (401) for anonymous clients outside their topics', () => {
    const anon: Principal = { ...principal(['public/**']), anonymous: true, sub: undefined };
    expect(code(() => TopicPermissionPolicy.assertSubscribe(anon, [parseTopicFilter('x')]))).toBe(
      AuthErrorCode.MissingToken,
    );
  });

  it('should require a publish grant for every topic of a batch', () => {
    const p = principal([], ['users/{sub}/**']);
    expect(code(() => TopicPermissionPolicy.assertPublish(p, ['users/alice/x']))).toBeUndefined();
    expect(code(() => TopicPermissionPolicy.assertPublish(p, ['users/alice', 'users/bob']))).toBe(
      AuthErrorCode.TopicNotPermitted,
    );
  });
});

describe('compileGrants', () => {
  it('should substitute {sub} as a literal segment only', () => {
    expect(compileGrants(['u/{sub}/**', 'x/{sub}'], 'al.ice').map((f) => f.raw)).toEqual([
      'u/al.ice/**',
      'x/al.ice',
    ]);
  });

  it.each(['*', '**', 'a/b', '', 'two words', 'é', undefined])(
    'should drop {sub} patterns when sub is %j',
    (sub) => {
      expect(compileGrants(['u/{sub}/**', 'open/*'], sub).map((f) => f.raw)).toEqual(['open/*']);
    },
  );

  it('should ignore invalid patterns and non-string entries', () => {
    expect(
      compileGrants(['ok', 'a//b', 'a/**/b', 'pre{sub}', 42, null, 'a/ b'], 'x').map((f) => f.raw),
    ).toEqual(['ok']);
    expect(compileGrants('a/**', 'x')).toEqual([]);
  });
});

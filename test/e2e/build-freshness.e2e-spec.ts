import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staleBuild } from '../support/build.global-setup';

/** The check behind the e2e/browser global setup that rebuilds dist/ before suites spawn it. */
describe('staleBuild', () => {
  const root = mkdtempSync(join(tmpdir(), 'herald-build-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const file = (path: string, at: number) => {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, '');
    utimesSync(full, at, at);
  };
  const T = 1_700_000_000;

  it('should ask for a build when dist is missing, older than a source, and not when fresh', () => {
    file('apps/gateway/src/main.ts', T);
    file('libs/topics/src/topic.filter.ts', T);
    file('libs/topics/src/topic.filter.spec.ts', T + 100);
    expect(staleBuild(root)).toBe('dist/ is missing');
    file('dist/apps/gateway/src/main.js', T + 10);
    expect(staleBuild(root)).toBe('dist/ is missing');
    file('dist/browser/apps/gateway/browser/demo.js', T + 10);
    // Only a spec file is newer than dist: specs are not built.
    expect(staleBuild(root)).toBeUndefined();
    file('libs/topics/src/topic.filter.ts', T + 20);
    expect(staleBuild(root)).toBe('a source file is newer than dist/');
    file('dist/apps/gateway/src/main.js', T + 30);
    file('dist/browser/apps/gateway/browser/demo.js', T + 30);
    expect(staleBuild(root)).toBeUndefined();
    file('tsconfig.json', T + 40);
    expect(staleBuild(root)).toBe('a source file is newer than dist/');
  });
});

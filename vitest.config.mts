import { resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const root = import.meta.dirname;

/** Aliases mirror tsconfig `paths` so specs import libs the way the app does. */
const alias = {
  '@herald/broker/testing': resolve(root, 'libs/broker/src/testing/index.ts'),
  '@herald/config': resolve(root, 'libs/config/src/index.ts'),
  '@herald/topics': resolve(root, 'libs/topics/src/index.ts'),
  '@herald/redis': resolve(root, 'libs/redis/src/index.ts'),
  '@herald/broker': resolve(root, 'libs/broker/src/index.ts'),
  '@herald/streams': resolve(root, 'libs/streams/src/index.ts'),
  '@herald/publish': resolve(root, 'libs/publish/src/index.ts'),
  '@herald/cluster': resolve(root, 'libs/cluster/src/index.ts'),
  '@herald/limits': resolve(root, 'libs/limits/src/index.ts'),
  '@herald/presence': resolve(root, 'libs/presence/src/index.ts'),
  '@herald/ingest': resolve(root, 'libs/ingest/src/index.ts'),
  '@herald/auth': resolve(root, 'libs/auth/src/index.ts'),
  '@herald/telemetry': resolve(root, 'libs/telemetry/src/index.ts'),
  '@herald/mercure': resolve(root, 'libs/mercure/src/index.ts'),
  '@herald/client': resolve(root, 'libs/client/src/index.ts'),
};

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias },
  test: {
    globals: false,
    // In CI (CI non-empty) a run that skipped any test fails (test/support/ci.ts).
    reporters: ['default', './test/support/no-skip.reporter.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts', 'test/**/*.int-spec.ts', 'examples/**/*.e2e-spec.ts'],
          fileParallelism: false,
          // Some suites spawn dist/: rebuild it first when it is missing or stale.
          globalSetup: ['test/support/build.global-setup.ts'],
        },
      },
      {
        // Real headless Chromium (test/support/browser.ts). Its own group (groupOrder): Vitest runs
        // groups one after another, so the browser never competes with the other projects.
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/*.browser-spec.ts'],
          fileParallelism: false,
          globalSetup: ['test/support/build.global-setup.ts'],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

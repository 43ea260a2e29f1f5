import type { Reporter, TestModule } from 'vitest/node';
import { isCI } from './ci';

/**
 * Fails a CI run (`CI` non-empty, see isCI) that skipped anything: a test or suite marked
 * `skip`/`todo`, skipped through `skipIf`, or skipped at run time with `ctx.skip()`. Locally
 * skips stay allowed (a missing dependency skips with a loud warning). Registered in
 * vitest.config.mts next to the default reporter.
 */
export default class NoSkipInCiReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (!isCI()) return;
    const skipped: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state !== 'skipped') continue;
        const why = result.note ?? test.options.mode;
        skipped.push(`${module.relativeModuleId} > ${test.fullName} (${why})`);
      }
    }
    if (skipped.length === 0) return;
    process.exitCode = 1;
    process.stderr.write(
      `\nCI is set: ${skipped.length} test(s) skipped, and nothing may skip in CI:\n` +
        skipped.map((s) => `  - ${s}\n`).join('') +
        '\n',
    );
  }
}

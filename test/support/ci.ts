/**
 * True when the tests run in CI: `CI` is set to anything non-empty (`true`, `1`, `yes`...), as
 * CI systems do. In CI every dependency guard (Redis, redis-server, Chromium) fails instead of
 * skipping, and a run that skipped any test fails (test/support/no-skip.reporter.ts).
 */
export function isCI(): boolean {
  return (process.env.CI ?? '').trim() !== '';
}

/**
 * The guard every optional dependency goes through: returns true when `available`; otherwise
 * throws in CI (the dependency is required there) and, locally, warns loudly and returns false
 * so the caller can skip.
 */
export function requireInCI(available: boolean, what: string): boolean {
  if (available) return true;
  if (isCI()) throw new Error(`${what} is required in CI (CI=${process.env.CI})`);
  console.warn(`\n!!!!!!!! ${what}: SKIPPING (set CI=1 to make this a failure) !!!!!!!!\n`);
  return false;
}

import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** What `npm run build` writes last per compiler run: dist is only as new as the oldest. */
const OUTPUTS = ['dist/apps/gateway/src/main.js', 'dist/browser/apps/gateway/browser/demo.js'];
/** What the build reads: sources under these folders, and the compiler configuration. */
const SOURCE_DIRS = ['apps', 'libs'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest modification time of a build input under `dir` (`*.spec.ts` excluded). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (!entry.name.endsWith('.spec.ts')) newest = Math.max(newest, mtime(path) ?? 0);
  }
  return newest;
}

/**
 * Why `dist/` must be rebuilt before suites that spawn it (`test/support/spawn-gateway.ts`), or
 * undefined when it is at least as new as every source file. A cheap check: file times only.
 */
export function staleBuild(root = ROOT): string | undefined {
  const built = OUTPUTS.map((o) => mtime(join(root, o)));
  if (built.some((t) => t === undefined)) return 'dist/ is missing';
  const oldest = Math.min(...(built as number[]));
  const sources = Math.max(
    ...SOURCE_DIRS.map((d) => newestSource(join(root, d))),
    ...SOURCE_FILES.map((f) => mtime(join(root, f)) ?? 0),
  );
  return sources > oldest ? 'a source file is newer than dist/' : undefined;
}

/**
 * Vitest global setup of the e2e and browser projects: runs `npm run build` when dist/ is
 * missing or older than a source file, so `npx vitest run <file>` never checks stale code and
 * `npm test` (which builds first) does not build twice.
 */
export default function setup(): void {
  const why = staleBuild();
  if (why === undefined) return;
  process.stderr.write(`\n== ${why}: npm run build\n`);
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

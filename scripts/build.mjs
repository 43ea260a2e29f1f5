// Builds Herald into a fresh directory and switches `dist` to it in one rename, so a gateway that
// starts (or runs) while a build is going on always sees one complete build, and two builds at
// once cannot delete each other's output (the old `rm -rf dist && tsc` could).
//
//   node scripts/build.mjs              build, then point dist -> .dist/<id>
//   node scripts/build.mjs --prepare    the same from npm's `prepare` (npm install / npm ci); skips
//                                       with a note when devDependencies are absent (--omit=dev)
//
// Layout: `.dist/<id>/` holds each build; `dist` is a symbolic link to the current one. Old builds
// are removed, except the current and the previous one (a process may still be loading it).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const builds = join(root, '.dist');
const link = join(root, 'dist');
const prepare = process.argv.includes('--prepare');
const require = createRequire(join(root, 'package.json'));

function resolveBin(pkg, bin) {
  try {
    return require.resolve(`${pkg}/${bin}`);
  } catch {
    return undefined;
  }
}

const tsc = resolveBin('typescript', 'bin/tsc');
const tscAlias = resolveBin('tsc-alias', 'dist/bin/index.js');
if (tsc === undefined || tscAlias === undefined) {
  if (prepare) {
    process.stdout.write(
      'herald: devDependencies are not installed (production install), so no build here; ' +
        'build with `npm ci && npm run build` and ship dist/ (or the .dist/ build it points to).\n',
    );
    process.exit(0);
  }
  process.stderr.write('herald: typescript and tsc-alias are missing; run `npm install` first.\n');
  process.exit(1);
}

const id = `${Date.now().toString(36)}-${process.pid}`;
const out = join(builds, id);
mkdirSync(out, { recursive: true });

function step(label, args) {
  const started = Date.now();
  process.stdout.write(`build: ${label} ...`);
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status !== 0) {
    process.stdout.write(' failed\n');
    process.stdout.write(run.stdout);
    process.stderr.write(run.stderr);
    rmSync(out, { recursive: true, force: true });
    process.exit(run.status ?? 1);
  }
  process.stdout.write(` ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

step('server (tsc -p tsconfig.build.json)', [tsc, '-p', 'tsconfig.build.json', '--outDir', out]);
step('path aliases (tsc-alias)', [tscAlias, '-p', 'tsconfig.build.json', '--outDir', out]);
step('browser scripts (tsc -p apps/gateway/browser)', [
  tsc,
  '-p',
  'apps/gateway/browser/tsconfig.json',
  '--outDir',
  join(out, 'browser'),
]);

const cli = join(out, 'apps/cli/src/main.js');
if (existsSync(cli)) chmodSync(cli, 0o755);
writeFileSync(join(out, 'BUILD_ID'), `${id}\n`);

// Switch: a new symlink renamed over the old one is atomic (rename(2)). A `dist` that is still a
// real directory (a checkout built by an older script) is moved into .dist/ first.
let current;
try {
  const st = lstatSync(link);
  if (st.isSymbolicLink()) current = readlinkSync(link);
  else renameSync(link, join(builds, `legacy-${id}`));
} catch {
  // no dist yet
}
const tmpLink = join(root, `.dist-link-${id}`);
symlinkSync(join('.dist', id), tmpLink, 'junction');
renameSync(tmpLink, link);
process.stdout.write(`build: dist -> .dist/${id}\n`);

// Keep the new build and the one it replaced; drop finished older ones, and unfinished ones
// (no BUILD_ID) older than an hour (a build that crashed).
// `dev` is `npm run start:dev`'s own output.
const keep = new Set(['dev', id, current === undefined ? '' : current.replace(/^\.dist[\\/]/, '')]);
for (const name of readdirSync(builds)) {
  if (keep.has(name)) continue;
  const dir = join(builds, name);
  const finished = existsSync(join(dir, 'BUILD_ID')) || name.startsWith('legacy-');
  const stale = Date.now() - statSync(dir).mtimeMs > 3_600_000;
  if (finished || stale) rmSync(dir, { recursive: true, force: true });
}

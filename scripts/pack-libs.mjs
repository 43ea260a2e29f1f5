// `npm run pack:libs`: builds every Herald lib (libs/<name>, with its own package.json) into an
// installable npm package and packs it with `npm pack`, so other repositories can install
// `@herald/<name>` without the monorepo. The gateway's own build (scripts/build.mjs, dist/) is not
// touched: this compiles into a temporary directory of its own.
//
//   node scripts/pack-libs.mjs [--out <dir>]     tarballs to <dir> (default .packs/), plus
//                                                <dir>/manifest.json: { "@herald/<name>": file }
//
// How: one `tsc -p tsconfig.pack.json` (declarations on) compiles libs/*/src. tsc keeps module
// specifiers as written, so `@herald/<x>` imports stay package imports (the app build rewrites
// them to relative paths with tsc-alias; this build must not). Each lib's output is staged as
// <stage>/<name>/dist next to its package.json, audited (scripts/package-audit.mjs: every
// `exports` target exists, every bare import is a declared dependency or peer, no relative
// import leaves the package), and packed.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { auditPackage } from './package-audit.mjs';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const outFlag = process.argv.indexOf('--out');
const out = resolve(outFlag === -1 ? join(root, '.packs') : process.argv[outFlag + 1]);
const require = createRequire(join(root, 'package.json'));

/** A path relative to the repository when it is inside it, else absolute. */
function shown(path) {
  const rel = relative(root, path);
  return rel.startsWith('..') ? path : rel;
}

function fail(message) {
  process.stderr.write(`pack:libs: ${message}\n`);
  process.exit(1);
}

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  fail('typescript is missing; run `npm ci` first.');
}

const libs = readdirSync(join(root, 'libs')).filter((name) =>
  existsSync(join(root, 'libs', name, 'package.json')),
);
if (libs.length === 0) fail('no libs/<name>/package.json found.');

const work = mkdtempSync(join(tmpdir(), 'herald-pack-'));
// Removed on every exit, including a refusal (fail() exits from inside the loop).
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
try {
  const build = join(work, 'build');
  const started = Date.now();
  process.stdout.write('pack:libs: compiling libs (tsc -p tsconfig.pack.json) ...');
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.pack.json', '--outDir', build], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (run.status !== 0) {
    process.stdout.write(' failed\n');
    process.stdout.write(run.stdout);
    process.stderr.write(run.stderr);
    process.exit(run.status ?? 1);
  }
  process.stdout.write(` ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  mkdirSync(out, { recursive: true });
  const manifest = {};
  for (const lib of libs) {
    const pkg = JSON.parse(readFileSync(join(root, 'libs', lib, 'package.json'), 'utf8'));
    const stage = join(work, 'stage', lib);
    mkdirSync(stage, { recursive: true });
    cpSync(join(build, lib, 'src'), join(stage, 'dist'), { recursive: true });
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    writeFileSync(
      join(stage, 'README.md'),
      `# ${pkg.name}\n\n${pkg.description ?? ''}\n\nPart of Herald, a Server-Sent Events gateway ` +
        'on NestJS. See "Using Herald\'s libraries in your app" in Herald\'s README for install ' +
        'and peer dependencies.\n',
    );
    const problems = auditPackage(stage);
    if (problems.length > 0)
      fail(`${pkg.name} is not a sound package:\n  ${problems.join('\n  ')}`);
    const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', out], {
      cwd: stage,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    if (packed.status !== 0) fail(`npm pack failed for ${pkg.name}:\n${packed.stderr}`);
    const [{ filename }] = JSON.parse(packed.stdout);
    manifest[pkg.name] = join(out, filename);
    process.stdout.write(
      `pack:libs: ${pkg.name}@${pkg.version} -> ${shown(join(out, filename))}\n`,
    );
  }
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

// What is wrong with a built npm package, read from its files: used by scripts/pack-libs.mjs on
// each staged lib before `npm pack`, and by test/integration/packages.int-spec.ts on the packages
// installed in an app outside the repository. Types: package-audit.d.mts.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SPECIFIER = /(?:require\(|from\s+|import\()\s*["']([^"']+)["']/g;
const BUILTINS = new Set(builtinModules);

/** The package a bare specifier names: `@scope/name` or `name`. */
export function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function files(dir) {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  );
  return entries.flatMap((e) =>
    e.name === 'node_modules'
      ? []
      : e.isDirectory()
        ? files(join(dir, e.name))
        : [join(dir, e.name)],
  );
}

function targets(value) {
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

/**
 * What is wrong with the package in `dir`: a missing name, version, `main`/`types` or `exports`
 * "." entry with `types`; a `main`/`types`/`exports` target that is not in the package; a
 * relative import (in .js or .d.ts) that leaves the package or names no file; a bare import of a
 * package that is neither a dependency nor a peer dependency; a `@herald/*` dependency on
 * another version than the package's own. Empty when the package is sound.
 */
export function auditPackage(dir) {
  const root = resolve(dir);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const name = pkg.name ?? '(unnamed)';
  const problems = [];
  const say = (problem) => problems.push(`${name}: ${problem}`);
  if (pkg.name === undefined) say('no name');
  if (pkg.version === undefined) say('no version');
  if (pkg.main === undefined) say('no main');
  if (pkg.types === undefined) say('no types');
  const dot = pkg.exports?.['.'];
  if (dot === null || typeof dot !== 'object' || !('types' in dot)) {
    say('exports has no "." entry with "types"');
  }
  for (const target of [pkg.main, pkg.types, ...targets(pkg.exports)]) {
    if (target !== undefined && !existsSync(join(root, target))) {
      say(`${target} (main/types/exports) is not in the package`);
    }
  }
  const declared = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ]);
  for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
    if (dep.startsWith('@herald/') && range !== pkg.version) {
      say(`depends on ${dep}@${range}, not its own version ${pkg.version ?? '?'}`);
    }
  }
  for (const file of files(root)) {
    const dts = file.endsWith('.d.ts');
    if (!dts && !file.endsWith('.js')) continue;
    const where = relative(root, file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (target !== root && !target.startsWith(root + sep)) {
          say(`${where} imports ${spec}, outside the package`);
          continue;
        }
        const candidates = dts
          ? [`${target}.d.ts`, join(target, 'index.d.ts'), target.replace(/\.js$/, '.d.ts')]
          : [target, `${target}.js`, join(target, 'index.js')];
        if (!candidates.some((c) => existsSync(c))) say(`${where} imports ${spec}: no such file`);
      } else if (!spec.startsWith('node:') && !BUILTINS.has(spec)) {
        const dep = packageName(spec);
        if (dep !== pkg.name && !declared.has(dep)) {
          say(`${where} imports ${spec}, which is not a dependency or peer dependency`);
        }
      }
    }
  }
  return problems;
}

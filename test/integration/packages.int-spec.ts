import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditPackage } from '../../scripts/package-audit.mjs';
import { openStream, type SseStream } from '../support/sse-client';
import { TEST_JWT_SECRET, bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const FIXTURE = join(ROOT, 'test/fixtures/packages-app');
/** Every lib folder must come out as its own package. */
const LIBS = readdirSync(join(ROOT, 'libs'));
/** What the outside app installs beside the tarballs: Nest and the libs' peer dependencies. */
const APP_DEPENDENCIES = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/passport',
  '@nestjs/terminus',
  '@nestjs/throttler',
  'passport',
  'reflect-metadata',
  'rxjs',
];
const APP_DEV_DEPENDENCIES = ['typescript', '@types/node'];
/** Entry points whose declarations need an optional peer the app does not install (vitest). */
const NEEDS_OPTIONAL_PEER = ['@herald/broker/testing'];

/** The version the repository has installed, so npm finds it in its cache (--prefer-offline). */
const installed = (name: string): string =>
  (
    JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

/** The environment of a child npm/node: without the npm_* variables of an enclosing `npm test`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')),
  );
  return { ...env, NODE_ENV: 'production', ...extra };
}

/**
 * The libs as other repositories get them: `npm run pack:libs` packs every libs/<name> as
 * `@herald/<name>`; an app in a temporary directory outside the repository installs the
 * tarballs (plus Nest and the peer dependencies), builds with tsc (declarations checked) and
 * serves a custom SSE endpoint written with the public API (test/fixtures/packages-app).
 */
describe('@herald/* packages installed in an app outside the repository', () => {
  let work: string;
  let app: string;
  let manifest: Record<string, string>;
  let server: ChildProcess | undefined;
  let url: string;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    work = realpathSync(mkdtempSync(join(tmpdir(), 'herald-packages-')));
    expect(work.startsWith(ROOT + sep)).toBe(false);
    const out = join(work, 'tarballs');
    await run(process.execPath, [join(ROOT, 'scripts/pack-libs.mjs'), '--out', out], {
      cwd: ROOT,
      env: childEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
    manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Record<
      string,
      string
    >;

    app = join(work, 'app');
    mkdirSync(app);
    cpSync(join(FIXTURE, 'src'), join(app, 'src'), { recursive: true });
    // Named tsconfig.app.json in the repository so that eslint and tsc there use the root config.
    cpSync(join(FIXTURE, 'tsconfig.app.json'), join(app, 'tsconfig.json'));
    const pin = (names: string[]) => Object.fromEntries(names.map((n) => [n, installed(n)]));
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'herald-packages-app',
        version: '0.0.0',
        private: true,
        dependencies: {
          ...Object.fromEntries(Object.entries(manifest).map(([n, f]) => [n, `file:${f}`])),
          ...pin(APP_DEPENDENCIES),
        },
        devDependencies: pin(APP_DEV_DEPENDENCIES),
      }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app,
      env: childEnv({ NODE_ENV: 'development' }),
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 300_000);

  /** Builds the outside app with tsc and starts it on 127.0.0.1, any free port. */
  async function buildAndStart(): Promise<void> {
    // Every entry point's declarations are compiled into the app (skipLibCheck is off).
    const entries = Object.keys(manifest).flatMap((name) => {
      const pkg = JSON.parse(
        readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8'),
      ) as { exports: Record<string, unknown> };
      return Object.keys(pkg.exports)
        .filter((sub) => sub !== './package.json')
        .map((sub) => name + sub.slice(1))
        .filter((spec) => !NEEDS_OPTIONAL_PEER.includes(spec));
    });
    writeFileSync(
      join(app, 'src/packages.types.ts'),
      entries.map((spec, i) => `import type * as p${i} from '${spec}';\n`).join('') +
        `export type Packages = [${entries.map((_, i) => `typeof p${i}`).join(', ')}];\n`,
    );
    await run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', app], {
      cwd: app,
      env: childEnv(),
      timeout: 120_000,
    }).catch((err: { stdout?: string }) => {
      throw new Error(`the outside app does not build against the packages:\n${err.stdout}`);
    });

    const child = spawn(process.execPath, [join(app, 'dist/main.js')], {
      cwd: app,
      env: childEnv({ PORT: '0', JWT_SECRET: TEST_JWT_SECRET }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const port = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`the outside app exited:\n${output}`);
        return /listening (\d+)/.exec(output)?.[1];
      },
      'the outside app to listen',
      20_000,
    );
    url = `http://127.0.0.1:${port}`;
  }

  afterAll(async () => {
    for (const s of streams) await s.close();
    if (server?.pid !== undefined && server.exitCode === null) {
      const exited = new Promise((r) => server?.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('should pack every lib as @herald/<name>, installed from its tarball', () => {
    expect(Object.keys(manifest).sort()).toEqual(LIBS.map((l) => `@herald/${l}`).sort());
    for (const name of Object.keys(manifest)) {
      const dir = join(app, 'node_modules', name);
      expect(lstatSync(dir).isSymbolicLink(), `${name} is a copy, not a link`).toBe(false);
    }
  });

  it('should ship packages with their dependencies, sound exports and no import outside themselves', () => {
    const problems = Object.keys(manifest).flatMap((name) =>
      auditPackage(join(app, 'node_modules', name)),
    );
    expect(problems).toEqual([]);
  });

  it('should load every export of every package in the outside app', async () => {
    // Each subpath is required from the app; one may only fail for want of an optional peer
    // dependency the app does not install (vitest, for @herald/broker/testing).
    const script = `
      const { readFileSync } = require('node:fs');
      const names = ${JSON.stringify(Object.keys(manifest))};
      const failures = [];
      for (const name of names) {
        const pkg = JSON.parse(readFileSync(require.resolve(name + '/package.json'), 'utf8'));
        const optional = Object.keys(pkg.peerDependenciesMeta ?? {});
        for (const sub of Object.keys(pkg.exports)) {
          if (sub === './package.json') continue;
          const spec = name + sub.slice(1);
          try { require(spec); } catch (err) {
            const missing = /Cannot find (?:module|package) '([^']+)'/.exec(String(err.message));
            const peer = missing && missing[1].split('/').slice(0, missing[1].startsWith('@') ? 2 : 1).join('/');
            if (!(err.code === 'MODULE_NOT_FOUND' && optional.includes(peer))) failures.push(spec + ': ' + err.message.split('\\n')[0]);
          }
        }
      }
      process.stdout.write(JSON.stringify(failures));
    `;
    const { stdout } = await run(process.execPath, ['-e', script], { cwd: app, env: childEnv() });
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('should build the outside app with tsc and stream an event published in it through its custom SSE endpoint, and resume', async () => {
    await buildAndStart();
    const subscriber = hs256(claims({ subscribe: ['orders/*'] }));
    const publisher = hs256(claims({ publish: ['orders/*'] }));
    const post = async (id: string, n: number) => {
      const res = await fetch(`${url}/orders/${id}/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...bearer(publisher) },
        body: JSON.stringify({ type: 'order.updated', data: { n, password: 'x' } }),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { ids: string[] }).ids[0];
    };

    const refused = await fetch(`${url}/orders/42/feed`, {
      headers: { Accept: 'text/event-stream' },
    });
    expect(refused.status).toBe(401);
    await refused.body?.cancel();

    const s = await openStream(url, '/orders/42/feed', { headers: bearer(subscriber) });
    streams.push(s);
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await sleep(50);
    const first = await post('42', 1);
    await post('7', 2);
    const third = await post('42', 3);
    await s.waitForEvents(2);
    expect(s.events.map((e) => [e.id, e.event])).toEqual([
      [first, 'order.updated'],
      [third, 'order.updated'],
    ]);
    expect(JSON.parse(s.events[0].data)).toEqual({ n: 1, password: '[REDACTED]' });

    const resumed = await openStream(url, '/orders/42/feed', {
      headers: { ...bearer(subscriber), 'Last-Event-ID': first },
    });
    streams.push(resumed);
    await resumed.waitForEvents(1);
    expect(resumed.events.map((e) => e.id)).toEqual([third]);
  }, 180_000);
});

describe('auditPackage', () => {
  it('should name a missing dependency, a broken export and an import outside the package', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-audit-'));
    try {
      mkdirSync(join(dir, 'dist'));
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({
          name: '@herald/broken',
          version: '0.1.0',
          main: 'dist/index.js',
          types: 'dist/index.d.ts',
          exports: {
            '.': { types: './dist/index.d.ts', default: './dist/index.js' },
            './extra': { types: './dist/extra.d.ts', default: './dist/extra.js' },
          },
          dependencies: { '@herald/topics': '0.0.9' },
          peerDependencies: { '@nestjs/common': '^12.0.0' },
        }),
      );
      writeFileSync(
        join(dir, 'dist/index.js'),
        'require("@nestjs/common"); require("ioredis"); require("../../topics/src/index");\n',
      );
      writeFileSync(join(dir, 'dist/index.d.ts'), "export * from './missing';\n");
      expect(auditPackage(dir)).toEqual([
        '@herald/broken: ./dist/extra.d.ts (main/types/exports) is not in the package',
        '@herald/broken: ./dist/extra.js (main/types/exports) is not in the package',
        '@herald/broken: depends on @herald/topics@0.0.9, not its own version 0.1.0',
        '@herald/broken: dist/index.d.ts imports ./missing: no such file',
        '@herald/broken: dist/index.js imports ioredis, which is not a dependency or peer dependency',
        '@herald/broken: dist/index.js imports ../../topics/src/index, outside the package',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

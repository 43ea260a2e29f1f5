import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_ENV } from '../support/gateway';
import { waitFor } from '../support/wait';

const ROOT = resolve(__dirname, '../..');
const MAIN = resolve(ROOT, 'dist/apps/gateway/src/main.js');

interface NpmStart {
  readonly child: ChildProcess;
  output(): string;
  url(): string | undefined;
}

/** `npm start` in its own process group, so the test can stop npm, sh and node by group id. */
function npmStart(env: Record<string, string>): NpmStart {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, ...TEST_ENV, LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    url: () => /listening on (http:\/\/[^\s"]+)/.exec(out)?.[1],
  };
}

function stopGroup(start: NpmStart): Promise<void> {
  return new Promise((done) => {
    if (start.child.exitCode !== null || start.child.pid === undefined) return done();
    start.child.once('exit', () => done());
    try {
      process.kill(-start.child.pid, 'SIGTERM'); // this test's own process group only
    } catch {
      done();
    }
  });
}

describe('npm start', () => {
  const started: NpmStart[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map(stopGroup));
  });

  it('should serve from two npm start at once in one checkout, without rebuilding', async () => {
    const build = realpathSync(resolve(ROOT, 'dist'));
    const builtAt = statSync(MAIN).mtimeMs;
    const a = npmStart({ PORT: '0' });
    const b = npmStart({ PORT: '0' });
    started.push(a, b);
    const urls = await waitFor(
      () => {
        for (const s of [a, b]) {
          if (s.child.exitCode !== null) throw new Error(`npm start exited:\n${s.output()}`);
        }
        const both = [a.url(), b.url()];
        return both.every((u) => u !== undefined) ? both : undefined;
      },
      'both gateways listening',
      25_000,
      50,
    );
    expect(new Set(urls).size).toBe(2);
    for (const url of urls) {
      const res = await fetch(`${url}/health/live`);
      expect(res.status).toBe(200);
    }
    // Neither start rebuilt: dist points at the same build and its files were not rewritten.
    expect(realpathSync(resolve(ROOT, 'dist'))).toBe(build);
    expect(statSync(MAIN).mtimeMs).toBe(builtAt);
    expect(a.output() + b.output()).not.toMatch(/build: |tsc -p/);
  });

  it('should say how to build when there is no build, instead of a module error', () => {
    // The start script in a checkout without dist/ (a copy of it, so the real build stays).
    const checkout = mkdtempSync(join(tmpdir(), 'herald-nobuild-'));
    try {
      mkdirSync(join(checkout, 'scripts'));
      copyFileSync(resolve(ROOT, 'scripts/start.mjs'), join(checkout, 'scripts/start.mjs'));
      const run = spawnSync(process.execPath, [join(checkout, 'scripts/start.mjs')], {
        encoding: 'utf8',
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('no build found');
      expect(run.stderr).toContain('npm run build');
      expect(run.stderr).not.toMatch(/Cannot find module/);
    } finally {
      rmSync(checkout, { recursive: true, force: true });
    }
  });
});

// `npm run start:dev`: compiles in watch mode into .dist/dev (not dist/, which `npm start` runs)
// and restarts the gateway after every successful compile. Ctrl-C stops everything.
//
// Two `tsc --watch` (server, browser scripts); after each clean server compile tsc-alias rewrites
// the `@herald/*` imports, then the gateway restarts. A restart sends SIGTERM and waits for the
// drain (SHUTDOWN_GRACE_MS defaults to 1000 here unless set), then SIGKILL after 5 s.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const out = join(root, '.dist/dev');
const require = createRequire(join(root, 'package.json'));
const tsc = require.resolve('typescript/bin/tsc');
const tscAlias = require.resolve('tsc-alias/dist/bin/index.js');
const main = join(out, 'apps/gateway/src/main.js');
const env = { SHUTDOWN_GRACE_MS: '1000', ...process.env };

let gateway;
let pending = false;
let stopping = false;

function say(text) {
  process.stderr.write(`[dev] ${text}\n`);
}

function startGateway() {
  gateway = spawn(process.execPath, ['--enable-source-maps', main], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  const child = gateway;
  child.once('exit', (code, signal) => {
    if (gateway === child) gateway = undefined;
    if (!stopping && !pending) say(`gateway exited (${code ?? signal}); waiting for changes`);
  });
}

function restart() {
  if (stopping) return;
  const previous = gateway;
  if (previous === undefined) {
    startGateway();
    return;
  }
  if (pending) return;
  pending = true;
  say('change compiled: restarting the gateway');
  const kill = setTimeout(() => previous.kill('SIGKILL'), 5000);
  previous.once('exit', () => {
    clearTimeout(kill);
    pending = false;
    startGateway();
  });
  previous.kill('SIGTERM');
}

let browserReady = false;
let serverReady = false;

function watch(label, args, onCompiled) {
  const child = spawn(process.execPath, [tsc, ...args, '--watch', '--preserveWatchOutput'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffer = '';
  child.stdout.on('data', (chunk) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\x1b\[[0-9;]*m/g, '');
      buffer = buffer.slice(nl + 1);
      const done = /Found (\d+) errors?\. Watching for file changes/.exec(line);
      if (done === null) {
        if (line.trim() !== '' && !/File change detected|Starting compilation/.test(line)) {
          process.stderr.write(`[${label}] ${line}\n`);
        }
        continue;
      }
      if (done[1] === '0') onCompiled();
      else say(`${label}: ${done[1]} error(s); the gateway keeps running the last good build`);
    }
  });
  return child;
}

const watchers = [
  watch('server', ['-p', 'tsconfig.build.json', '--outDir', out], () => {
    const alias = spawnSync(
      process.execPath,
      [tscAlias, '-p', 'tsconfig.build.json', '--outDir', out],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
    if (alias.status !== 0) return say('tsc-alias failed; not restarting');
    serverReady = true;
    if (browserReady) restart();
  }),
  watch(
    'browser',
    ['-p', 'apps/gateway/browser/tsconfig.json', '--outDir', join(out, 'browser')],
    () => {
      browserReady = true;
      if (serverReady) restart();
    },
  ),
];
say(`compiling into ${out} (watch mode)`);

function stop() {
  stopping = true;
  for (const w of watchers) w.kill('SIGTERM');
  if (gateway === undefined) process.exit(0);
  gateway.once('exit', () => process.exit(0));
  gateway.kill('SIGTERM');
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

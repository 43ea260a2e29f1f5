// Regenerates docs/demo.png, the demo page screenshot shown in the README.
// Usage: npm run screenshot (builds, then runs this). Needs /usr/bin/chromium (or CHROMIUM_PATH).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const out = join(root, 'docs', 'demo.png');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Same flags as test/support/browser.ts.
const args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const gateway = spawn(process.execPath, [join(root, 'dist/apps/gateway/src/main.js')], {
  env: { ...process.env, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'development', LOG_LEVEL: 'info' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let log = '';
gateway.stdout.on('data', (d) => (log += d));
gateway.stderr.on('data', (d) => (log += d));

const profile = mkdtempSync(join(tmpdir(), 'herald-screenshot-'));
let context;
try {
  const url = await new Promise((ok, fail) => {
    const poll = setInterval(() => {
      const m = /listening on (http:\/\/[^\s"]+)/.exec(log);
      if (m) {
        clearInterval(poll);
        ok(m[1]);
      }
    }, 20);
    gateway.once('exit', (code) => fail(new Error(`gateway exited (${code}):\n${log}`)));
  });
  const post = (body) =>
    fetch(`${url}/events`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args,
    viewport: { width: 1200, height: 900 },
    colorScheme: 'light',
  });
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.locator('#state[data-state="open"]').waitFor();
  await post({ topic: 'demo', type: 'greeting', data: { hello: 'world' } });
  await sleep(150);
  await post({ topic: 'news/eu', data: { headline: 'Herald 0.1 ships', lang: 'en' } });
  await sleep(150);
  await post({ topic: 'news/us/tech', data: { headline: 'SSE is back', score: 42 } });
  await sleep(150);
  await page.locator('#pcount').fill('3');
  await page.locator('#pub button[type="submit"]').click();
  await page.locator('#n-events', { hasText: '6' }).waitFor();
  await sleep(1500); // let the arrival highlight fade
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  gateway.kill('SIGTERM');
}

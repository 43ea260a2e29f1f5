import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { startTestGateway, type Gateway } from '../support/gateway';
import { makeCertificate } from '../support/tls';
import { waitFor } from '../support/wait';

const NGINX = '/usr/sbin/nginx';
const available = existsSync(NGINX);
if (!available) {
  if (process.env.CI)
    throw new Error(`${NGINX} is missing (CI): install Debian's nginx (.ci/run does)`);
  console.warn(
    `\n!!! ${NGINX} not found: skipping the doctor-through-nginx suite (apt-get install nginx)\n`,
  );
}

/** Ports of this suite's nginx servers (this suite's own range: 6470-6479). */
const BUFFERED = 6470;
const SHORT_TIMEOUT = 6471;
const GOOD = 6472;
const GOOD_TLS = 6473;

/** The `location / { ... }` block of the shipped deploy/nginx/herald.conf, as is. */
function shippedLocation(): string {
  const conf = readFileSync(resolve(__dirname, '../../deploy/nginx/herald.conf'), 'utf8');
  const m = /location \/ \{\n[\s\S]*?\n {4}\}/.exec(conf);
  if (!m) throw new Error('deploy/nginx/herald.conf has no multi-line `location / { ... }` block');
  expect(m[0]).toContain('proxy_pass http://herald;');
  return m[0];
}

interface Report {
  findings: { id: string; severity: string; title: string }[];
}

async function doctor(port: number, idleMs: number, tlsCa?: string) {
  const run = await runCli([
    'doctor',
    `${tlsCa === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    '--idle-ms',
    String(idleMs),
    '--json',
    ...(tlsCa === undefined ? [] : ['--ca', tlsCa]),
  ]);
  const report = JSON.parse(run.stdout) as Report;
  return {
    code: run.code,
    report,
    severity: Object.fromEntries(report.findings.map((f) => [f.id, f.severity])),
    errors: report.findings.filter((f) => f.severity === 'error').map((f) => f.id),
  };
}

describe.skipIf(!available)('herald doctor through a real nginx', () => {
  let fast: Gateway;
  let quietest: Gateway;
  let quiet: Gateway;
  let nginx: ChildProcess | undefined;
  let dir: string;
  let cert: string;

  beforeAll(async () => {
    // Heartbeats every ~50 ms (fill a 1 KiB buffer in seconds), every ~150 ms, and every 5 s.
    [quietest, fast, quiet] = await Promise.all([
      startTestGateway({ HEARTBEAT_MS: '100' }),
      // Trusts the local nginx, so it sees X-Forwarded-Proto: https and sends HSTS.
      startTestGateway({ HEARTBEAT_MS: '300', TRUST_PROXY: 'loopback' }),
      startTestGateway({ HEARTBEAT_MS: '5000' }),
    ]);
    const upstream = (g: Gateway) => new URL(g.url).host;
    dir = mkdtempSync(join(tmpdir(), 'herald-nginx-'));
    mkdirSync(join(dir, 'logs'));
    const tls = makeCertificate(dir, 30); // 30 days: no expiry warning
    cert = tls.cert;
    const conf = `
worker_processes 1;
error_log ${dir}/logs/error.log warn;
pid ${dir}/logs/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream herald {
    server ${upstream(fast)};
    keepalive 8;
  }
  # Bad: buffering on with small buffers, the default HTTP/1.0 upstream, and Herald's
  # X-Accel-Buffering: no ignored. Heartbeats pile up until a buffer is full.
  server {
    listen 127.0.0.1:${BUFFERED};
    location / {
      proxy_pass http://${upstream(quietest)};
      proxy_buffering on;
      proxy_buffer_size 1k;
      proxy_buffers 2 1k;
      proxy_busy_buffers_size 1k;
      proxy_ignore_headers X-Accel-Buffering;
    }
  }
  # Bad: a read timeout (2 s) shorter than HEARTBEAT_MS (5 s).
  server {
    listen 127.0.0.1:${SHORT_TIMEOUT};
    location / {
      proxy_pass http://${upstream(quiet)};
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_read_timeout 2s;
    }
  }
  # Good: the shipped configuration (deploy/nginx/herald.conf) in front of Herald.
  server {
    listen 127.0.0.1:${GOOD};
    ${shippedLocation()}
  }
  # The same over TLS with HTTP/2 (nginx 1.22 spells it on the listen line, not \`http2 on;\`).
  server {
    listen 127.0.0.1:${GOOD_TLS} ssl http2;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ${shippedLocation()}
  }
}
`;
    writeFileSync(join(dir, 'nginx.conf'), conf);
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    nginx.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(
      async () => {
        if (nginx?.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
        const res = await fetch(`http://127.0.0.1:${GOOD}/health/live`).catch(() => undefined);
        return res?.status === 200;
      },
      'nginx serving',
      10_000,
      50,
    );
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const gone = new Promise((done) => nginx?.once('exit', done));
      nginx.kill('SIGQUIT'); // our nginx master, by pid: graceful stop of it and its worker
      await gone;
    }
    await Promise.all([fast, quiet, quietest].map((g) => g?.app.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should report buffering, an idle cut, and nothing wrong with the shipped config', async () => {
    const [buffered, cut, good, goodTls] = await Promise.all([
      doctor(BUFFERED, 8000),
      doctor(SHORT_TIMEOUT, 4500),
      doctor(GOOD, 2500),
      doctor(GOOD_TLS, 2500, cert),
    ]);

    // Held headers and first bytes, then heartbeats released together.
    expect(buffered.severity).toMatchObject({ 'first-bytes': 'error', heartbeats: 'error' });
    expect(buffered.report.findings.find((f) => f.id === 'heartbeats')?.title).toMatch(
      /arrive in bursts/,
    );
    expect(buffered.code).toBe(1);

    // Fine at first, then cut by proxy_read_timeout 2s.
    expect(cut.severity).toMatchObject({ 'first-bytes': 'ok', retry: 'ok', 'idle-cut': 'error' });
    expect(cut.errors).toEqual(['idle-cut']);
    expect(cut.report.findings.find((f) => f.id === 'idle-cut')?.title).toMatch(
      /cut after [12]\.\d s/,
    );
    expect(cut.code).toBe(1);

    // deploy/nginx/herald.conf: nothing held, heartbeats one by one, open all along.
    expect(good.severity).toMatchObject({
      status: 'ok',
      'first-bytes': 'ok',
      retry: 'ok',
      heartbeats: 'ok',
      'idle-cut': 'ok',
      compression: 'ok',
    });
    expect(good.errors).toEqual([]);
    expect(good.code).toBe(0);

    // Over TLS: certificate (trusted with --ca), HTTP/2 offered by ALPN, HSTS from Herald.
    expect(goodTls.severity).toMatchObject({
      'first-bytes': 'ok',
      heartbeats: 'ok',
      'idle-cut': 'ok',
      tls: 'ok',
      http2: 'ok',
      hsts: 'ok',
    });
    expect(goodTls.report.findings.filter((f) => f.severity !== 'ok')).toEqual([]);
    expect(goodTls.code).toBe(0);
  });
});

// nchan (nginx's C pub/sub module) as a peer in the bench, when `nginx` and `libnginx-mod-nchan`
// are installed. One nginx process (master_process off, one worker's work) pinned to the server
// core, on the perf engineer's fixed port range (6500-6519), speaking the bench's subset of
// Herald's API: GET /events?topic=T (EventSource) and POST /events?topic=T (the body is the data).
// No auth (nchan's auth is an upstream subrequest per connect: not comparable).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tasksetAvailable } from './lib/proc.mjs';

const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) =>
  existsSync(p),
);
const MODULE = [
  '/usr/lib/nginx/modules/ngx_nchan_module.so',
  '/usr/share/nginx/modules/ngx_nchan_module.so',
  '/usr/local/lib/nginx/modules/ngx_nchan_module.so',
].find((p) => existsSync(p));

/** Why nchan cannot run here, or undefined when it can. */
export function nchanUnavailable() {
  if (!NGINX) return 'nginx not installed';
  if (!MODULE) return 'libnginx-mod-nchan not installed';
  return undefined;
}

const PORTS = [6500, 6501, 6502, 6503, 6504];
let next = 0;

/**
 * Starts nginx + nchan on 127.0.0.1 (pinned to `core`); resolves with
 * `{ kind: 'nchan', url, port, pid, stats(), stop() }`. `stats()` reads /proc like the Node
 * servers' `process.cpuUsage()` / `memoryUsage().rss`.
 */
export async function startNchan({ core } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-nchan-'));
  const port = PORTS[next++ % PORTS.length];
  const conf = `
load_module ${MODULE};
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
error_log ${dir}/error.log error;
pid ${dir}/nginx.pid;
events { worker_connections 60000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  nchan_shared_memory_size 256M;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /events {
      nchan_channel_id $arg_topic;
      nchan_pubsub;
      nchan_eventsource_event tick;
      nchan_message_buffer_length 10000;
      nchan_subscriber_first_message newest;
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const args = ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')];
  const child =
    core !== undefined && tasksetAvailable()
      ? spawn('taskset', ['-c', String(core), NGINX, ...args], { stdio: 'ignore' })
      : spawn(NGINX, args, { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const stopIt = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = existsSync(join(dir, 'error.log'))
        ? readFileSync(join(dir, 'error.log'), 'utf8')
        : '';
      await stopIt();
      throw new Error(`nginx exited: ${log.trim().split('\n').slice(-3).join(' | ')}`);
    }
    const ok = await fetch(`${url}/events?topic=probe`, { method: 'POST', body: '{}' }).then(
      (r) => r.status < 300,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stopIt();
      throw new Error('nginx did not answer within 10 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    kind: 'nchan',
    url,
    port,
    pid: child.pid,
    child,
    stats: () => procStats(child.pid),
    stop: stopIt,
  };
}

/** CPU (µs, user + system) and RSS (bytes) of `pid`, from /proc. */
function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuUs: (ticks * 1e6) / 100, rss: rssKb * 1024, heapUsed: 0, eldP99: NaN, eldMax: NaN };
}

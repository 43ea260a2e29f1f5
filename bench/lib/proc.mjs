// Spawning helpers: pinned to a core (taskset), with the file-descriptor limit raised to the hard
// limit, and an IPC channel. Every child is tracked by pid and killed by pid only.
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';

let hasTaskset;
/** True when `taskset` exists (Linux); cores are then pinned. */
export function tasksetAvailable() {
  if (hasTaskset === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      hasTaskset = true;
    } catch {
      hasTaskset = false;
    }
  }
  return hasTaskset;
}

const children = new Set();

/**
 * Spawns `node <script> ...args` pinned to `core` with `ulimit -n` raised, with IPC.
 * Returns the ChildProcess (its pid is node's own: bash execs it).
 */
export function spawnNode(script, args = [], { core, env = {}, nodeArgs = [] } = {}) {
  const pin = core !== undefined && tasksetAvailable() ? `taskset -c ${core} ` : '';
  const quoted = [...nodeArgs, script, ...args].map((a) => `'${String(a).replace(/'/g, `'\\''`)}'`);
  const cmd = `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${pin}'${process.execPath}' ${quoted.join(' ')}`;
  const child = spawn('bash', ['-c', cmd], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Sends `msg` and resolves with the next reply of `type` (bounded by `timeoutMs`). */
export function request(child, msg, type, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no ${type} reply from pid ${child.pid} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m) => {
      if (m && m.type === type) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m);
      } else if (m && m.type === 'error') {
        clearTimeout(timer);
        child.off('message', onMessage);
        reject(new Error(m.message));
      }
    };
    child.on('message', onMessage);
    if (msg) child.send(msg);
  });
}

/**
 * Node flags for a bench server: `--expose-gc`, and with BENCH_CPU_PROF set `--cpu-prof` into
 * `profDir` (read the profiles with bench/profile-top.mjs).
 * @param {string} profDir
 * @returns {string[]}
 */
export function serverNodeArgs(profDir) {
  return [
    '--expose-gc',
    ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
  ];
}

/**
 * Stops a bench server; with BENCH_CPU_PROF set, first lets it exit cleanly (SIGINT, bounded)
 * so `--cpu-prof` writes its profile.
 */
export async function stopServerProcess(child) {
  if (process.env.BENCH_CPU_PROF && child.exitCode === null) {
    // --cpu-prof writes the profile on a clean exit only
    const exited = once(child, 'exit');
    process.kill(child.pid, 'SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
  }
  await stop(child);
}

/** Kills one child by pid and waits (bounded) for it to exit. */
export async function stop(child, timeoutMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    return;
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, timeoutMs))]);
}

/** Kills every child this process started, by pid. */
export function stopAll() {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { sleep, waitFor } from './wait';

/** A process a topology helper started, stoppable by pid. */
export interface TopologyProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** True until the process exited. */
  alive(): boolean;
  /** Sends `signal` (default SIGKILL) to this pid and waits (at most 5 s) for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Sends `signal` without waiting (e.g. SIGSTOP / SIGCONT to freeze a replica). */
  signal(signal: NodeJS.Signals): void;
  /** Starts the same command again (after a stop) and waits until it answers PING. */
  restart(): Promise<void>;
}

/** Spawns `command args` (output discarded) and tracks its exit. */
export function spawnTracked(
  command: string,
  args: readonly string[],
  port: number,
): TopologyProcess {
  let child = spawn(command, args, { stdio: 'ignore' });
  let exited = new Promise<void>((done) => child.once('exit', () => done()));
  const proc: TopologyProcess = {
    port,
    get child() {
      return child;
    },
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.alive() && child.pid !== undefined) process.kill(child.pid, signal);
      await Promise.race([exited, sleep(5000)]);
    },
    signal(signal: NodeJS.Signals) {
      if (proc.alive() && child.pid !== undefined) process.kill(child.pid, signal);
    },
    async restart() {
      if (proc.alive()) throw new Error(`process on port ${port} is still running`);
      child = spawn(command, args, { stdio: 'ignore' });
      exited = new Promise<void>((done) => child.once('exit', () => done()));
      await waitForPing(proc);
    },
  };
  return proc;
}

/** A fresh temporary directory for one topology's config and data files. */
export function topologyDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `herald-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs one command against 127.0.0.1:`port` on a short-lived connection; `undefined` when the
 * server does not answer (down, or refusing).
 */
export async function redisQuery(port: number, ...args: string[]): Promise<unknown> {
  const c = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await c.call(args[0], ...args.slice(1));
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

/** `field:value` lines of an INFO-like reply as a map. */
export function infoFields(text: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof text !== 'string') return out;
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return out;
}

/** Missing executables among `commands` (looked up on PATH). */
export function missingBinaries(commands: readonly string[]): string[] {
  return commands.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
}

/**
 * Registers hooks in the current `describe` that skip every test when one of `commands` is not
 * installed: loudly locally, while in CI (`CI` non-empty) the check fails the suite.
 */
export function requireBinaries(commands: readonly string[]): () => boolean {
  let available = false;
  beforeAll(() => {
    const missing = missingBinaries(commands);
    available = missing.length === 0;
    if (available) return;
    const what = `${missing.join(', ')} not installed (.ci/run installs redis-server, redis-sentinel, redis-tools)`;
    if (process.env.CI) throw new Error(`required in CI: ${what}`);
    console.warn(`\n!!!!!!!! ${what}: SKIPPING this suite. !!!!!!!!\n`);
  });
  beforeEach((context) => {
    if (!available) context.skip();
  });
  return () => available;
}

/** Arguments every private redis-server of the topologies gets. */
export function baseServerArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--dir',
    dir,
    '--dbfilename',
    `dump-${port}.rdb`,
  ];
}

/** Waits until redis-server on `port` answers PING (or throws when it exited). */
export async function waitForPing(proc: TopologyProcess, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => {
      if (!proc.alive()) throw new Error(`redis process on port ${proc.port} exited`);
      return (await redisQuery(proc.port, 'PING')) === 'PONG';
    },
    `redis on port ${proc.port}`,
    timeoutMs,
    50,
  );
}

/**
 * Registers hooks in the current `describe`: its tests skip unless `binaries` are installed
 * ({@link requireBinaries}; in CI a missing one fails), `start()` runs before all and the
 * topology it gives is stopped after all. Returns the running topology (throws if it did not
 * start); `what` names it in that error.
 */
export function useTopology<T extends { stop(): Promise<void> }>(
  binaries: readonly string[],
  start: () => Promise<T>,
  what: string,
  setupTimeoutMs = 60_000,
): () => T {
  requireBinaries(binaries);
  let topology: T | undefined;
  beforeAll(async () => {
    if (missingBinaries(binaries).length === 0) topology = await start();
  }, setupTimeoutMs);
  afterAll(async () => {
    await topology?.stop();
  });
  return () => {
    if (!topology) throw new Error(`${what} is not running (beforeAll skipped or failed)`);
    return topology;
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { TEST_ENV } from './gateway';
import { waitFor } from './wait';

const MAIN = resolve(__dirname, '../../dist/apps/gateway/src/main.js');

/** The built `examples/custom-sse` app (`npm run example:custom-sse`). */
export const CUSTOM_SSE_MAIN = resolve(__dirname, '../../dist/examples/custom-sse/main.js');

/** A gateway in its own process (built `dist/`, as `npm start` runs it). */
export interface SpawnedGateway {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process printed. */
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  /** Sends a signal to this process only (by pid). */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Spawns `node dist/apps/gateway/src/main.js` on a random loopback port and waits for it to
 * listen. Pass `PORT` in `env` to take a given port instead, e.g. to restart a gateway on the
 * address its clients know (`{ PORT: new URL(old.url).port }`). Requires `npm run build` (done by
 * `npm test`).
 */
export async function spawnGateway(
  env: Record<string, string> = {},
  timeoutMs = 15_000,
  main = MAIN,
): Promise<SpawnedGateway> {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...TEST_ENV, LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((done) =>
    child.once('exit', (code, signal) => done(code ?? signal ?? -1)),
  );
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      child.kill('SIGKILL'); // never leave an orphan behind a failed start
      fail(new Error(`gateway did not start:\n${out}`));
    }, timeoutMs);
    const poll = setInterval(() => {
      const m = /listening on (https?:\/\/[^\s"]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        clearInterval(poll);
        ok(m[1]);
      }
    }, 20);
    void exited.then((code) => {
      clearTimeout(timer);
      clearInterval(poll);
      fail(new Error(`gateway exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    child,
    url,
    output: () => out,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** {@link spawnGateway}, then waits until `/health/ready` answers 200 (its broker is connected). */
export async function spawnReadyGateway(
  env: Record<string, string> = {},
  timeoutMs = 15_000,
  main = MAIN,
): Promise<SpawnedGateway> {
  const gateway = await spawnGateway(env, timeoutMs, main);
  try {
    await waitFor(
      async () => (await fetch(`${gateway.url}/health/ready`)).status === 200,
      `${gateway.url} ready`,
      timeoutMs,
      50,
    );
  } catch (err) {
    gateway.kill('SIGKILL');
    throw err;
  }
  return gateway;
}

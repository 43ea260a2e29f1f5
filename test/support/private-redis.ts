import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { waitFor } from './wait';

/** A redis-server this test owns (its own port), to kill and restart. */
export interface PrivateRedis {
  readonly url: string;
  /** Kills it with SIGKILL (by pid) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
}

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 300,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Starts `redis-server` on `port` (no persistence) and waits until it answers. */
export async function startPrivateRedis(port: number): Promise<PrivateRedis> {
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await waitFor(() => ping(url), `redis-server on ${port}`, 10_000, 100);
  };
  const kill = async () => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((done) => c.once('exit', done));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url,
    kill,
    restart: async () => {
      await kill();
      await start();
    },
  };
}

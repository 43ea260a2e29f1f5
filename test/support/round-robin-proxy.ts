import { connect, createServer, type Socket } from 'node:net';

/** A TCP load balancer for multi-instance tests: each new connection goes to the next target. */
export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Where each accepted connection went (target index), in order. */
  readonly routed: readonly number[];
  /** Sends the next connections to `index` only (`undefined`: back to round robin). */
  pin(index: number | undefined): void;
  /** Takes a target out of the rotation (a stopped instance), or puts it back. */
  setDown(index: number, down: boolean): void;
  stop(): Promise<void>;
}

/** Starts a round-robin TCP proxy on 127.0.0.1 (port 0) in front of `targetPorts`. */
export async function startRoundRobinProxy(
  targetPorts: readonly number[],
): Promise<RoundRobinProxy> {
  const sockets = new Set<Socket>();
  const down = new Set<number>();
  const routed: number[] = [];
  let next = 0;
  let pinned: number | undefined;
  const pick = (): number => {
    if (pinned !== undefined) return pinned;
    for (let tries = 0; tries < targetPorts.length; tries++) {
      const i = next++ % targetPorts.length;
      if (!down.has(i)) return i;
    }
    return 0;
  };
  const server = createServer((client) => {
    const index = pick();
    routed.push(index);
    const upstream = connect(targetPorts[index], '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    pin: (index) => {
      pinned = index;
    },
    setDown: (index, isDown) => {
      if (isDown) down.add(index);
      else down.delete(index);
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

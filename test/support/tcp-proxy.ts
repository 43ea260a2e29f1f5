import { createServer, connect, type Server, type Socket } from 'node:net';

/** Options of {@link startTcpProxy}. */
export interface TcpProxyOptions {
  /** Port the proxy forwards to (on `targetHost`). */
  readonly targetPort: number;
  readonly targetHost?: string;
  /** Port to listen on, on 127.0.0.1 (0: any free port). */
  readonly port?: number;
  /** Delay added to every client -> server chunk, in ms. */
  readonly upstreamDelayMs?: number;
  /** Delay added to every server -> client chunk, in ms. */
  readonly downstreamDelayMs?: number;
}

/** What {@link TcpProxy.cutAfter} waits for. */
export interface CutRule {
  /** Matched against each client -> server chunk. */
  readonly match: (chunk: Buffer) => boolean;
  /** How many connections to cut (default 1); the rule is dropped after that. */
  readonly times?: number;
  /**
   * How long the server side stays open after the matching chunk was forwarded (default 100 ms),
   * so the server executes the command although its reply can no longer reach the client.
   */
  readonly holdServerMs?: number;
}

/** A TCP proxy for fault tests: latency per direction, cuts on demand or after a chunk. */
export interface TcpProxy {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, for pointing a Redis client at the proxy. */
  readonly redisUrl: string;
  /** Open client connections. */
  readonly connections: number;
  /** Connections cut by {@link cutAll} or a {@link cutAfter} rule so far. */
  readonly cuts: number;
  /** Changes the latency of chunks that arrive from now on. */
  setLatency(upstreamDelayMs: number, downstreamDelayMs?: number): void;
  /** Destroys every open connection (both sides) at once. */
  cutAll(): void;
  /**
   * Arms a rule: the next connection(s) whose client sends a matching chunk get that chunk
   * forwarded, then are cut before anything else passes in either direction (the reply to it
   * never reaches the client). Resolves once `times` connections were cut.
   */
  cutAfter(rule: CutRule): Promise<void>;
  /** Stops listening and destroys every connection. */
  stop(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
  cut: boolean;
}

/** An ordered, delayed writer: chunks leave in arrival order, each `delay` ms after it came. */
function delayedPipe(to: Socket, delayOf: () => number, isCut: () => boolean) {
  let tail = Promise.resolve();
  return (chunk: Buffer, after?: () => void) => {
    const due = Date.now() + delayOf();
    tail = tail.then(async () => {
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (isCut() || to.destroyed) return;
      to.write(chunk);
      after?.();
    });
  };
}

/** Starts a proxy on 127.0.0.1 in front of `targetHost:targetPort`. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const host = options.targetHost ?? '127.0.0.1';
  let up = options.upstreamDelayMs ?? 0;
  let down = options.downstreamDelayMs ?? 0;
  const pairs = new Set<Pair>();
  const rules: { rule: CutRule; left: number; done: () => void }[] = [];
  let cuts = 0;

  const cut = (pair: Pair, holdServerMs: number) => {
    if (pair.cut) return;
    pair.cut = true;
    cuts++;
    pair.client.destroy();
    if (holdServerMs <= 0) pair.server.destroy();
    else setTimeout(() => pair.server.destroy(), holdServerMs).unref();
  };

  const server: Server = createServer((client) => {
    const upstream = connect(options.targetPort, host);
    const pair: Pair = { client, server: upstream, cut: false };
    pairs.add(pair);
    const toServer = delayedPipe(
      upstream,
      () => up,
      () => false,
    );
    const toClient = delayedPipe(
      client,
      () => down,
      () => pair.cut,
    );
    client.on('data', (chunk: Buffer) => {
      if (pair.cut) return;
      const armed = rules.find((r) => r.left > 0 && r.rule.match(chunk));
      if (armed === undefined) {
        toServer(chunk);
        return;
      }
      armed.left--;
      if (armed.left === 0) {
        rules.splice(rules.indexOf(armed), 1);
      }
      // Nothing more from the client reaches the server, and nothing comes back.
      client.pause();
      toServer(chunk, () => {
        cut(pair, armed.rule.holdServerMs ?? 100);
        if (armed.left === 0) armed.done();
      });
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.cut) toClient(chunk);
    });
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      if (!pair.cut) upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    port,
    redisUrl: `redis://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    get cuts() {
      return cuts;
    },
    setLatency(upstreamDelayMs: number, downstreamDelayMs = upstreamDelayMs) {
      up = upstreamDelayMs;
      down = downstreamDelayMs;
    },
    cutAll() {
      for (const pair of [...pairs]) cut(pair, 0);
    },
    cutAfter(rule: CutRule) {
      return new Promise<void>((done) => rules.push({ rule, left: rule.times ?? 1, done }));
    },
    async stop() {
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.server.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

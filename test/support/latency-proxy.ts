import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * Decides how slow one proxied connection is, from the bytes its client has sent so far (e.g.
 * the `CLIENT SETNAME` of an ioredis connection). Returns the delay in ms added to every chunk
 * in both directions from then on, or `undefined` while it cannot tell yet (chunks pass at once).
 */
export type DelayPolicy = (clientBytesSoFar: string) => number | undefined;

/** A TCP proxy on 127.0.0.1 that delays what it forwards (a slow, not an absent, server). */
export interface LatencyProxy {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, for a Redis behind it. */
  readonly url: string;
  /** Connections accepted so far, with the delay each one got (undefined: not decided). */
  readonly connections: { readonly delayMs: number | undefined }[];
  /**
   * Replaces the policy, for new connections and for open ones (re-decided from the bytes they
   * sent first): a server can turn slow mid-connection.
   */
  setPolicy(policy: DelayPolicy): void;
  /** Stops listening and destroys every proxied connection. */
  close(): Promise<void>;
}

/** How many leading client bytes a policy sees before a connection is left undelayed for good. */
const SNIFF_BYTES = 4096;

/**
 * Starts a proxy on 127.0.0.1:`port` to `targetPort`. Each chunk is forwarded `delayMs` after it
 * arrived (order kept), so a request/response round trip costs twice the delay.
 */
export async function startLatencyProxy(
  port: number,
  targetPort: number,
  policy: DelayPolicy,
): Promise<LatencyProxy> {
  let current = policy;
  const sockets = new Set<Socket>();
  const connections: { delayMs: number | undefined }[] = [];
  const live = new Map<Socket, { state: { delayMs: number | undefined }; sniffed: () => string }>();

  const server: Server = createServer((client) => {
    const state: { delayMs: number | undefined } = { delayMs: undefined };
    connections.push(state);
    let sniffed = '';
    live.set(client, { state, sniffed: () => sniffed });
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        live.delete(client);
        client.destroy();
        upstream.destroy();
      });
    }
    /** Forwards `chunk` to `to` after the connection's delay, never overtaking earlier chunks. */
    const forward = (to: Socket) => {
      let lastAt = 0;
      return (chunk: Buffer) => {
        const delay = state.delayMs ?? 0;
        const at = Math.max(Date.now() + delay, lastAt);
        lastAt = at;
        if (at <= Date.now()) {
          to.write(chunk);
          return;
        }
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
        }, at - Date.now());
      };
    };
    const toUpstream = forward(upstream);
    const toClient = forward(client);
    client.on('data', (chunk: Buffer) => {
      if (sniffed.length < SNIFF_BYTES) {
        sniffed += chunk.toString('latin1');
        state.delayMs = current(sniffed);
      }
      toUpstream(chunk);
    });
    upstream.on('data', (chunk: Buffer) => toClient(chunk));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    connections,
    setPolicy: (next) => {
      current = next;
      for (const { state, sniffed } of live.values()) state.delayMs = next(sniffed());
    },
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
}

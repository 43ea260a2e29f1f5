import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait';

/** A client socket that records what it received and whether it was closed. */
async function client(port: number) {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const state = { socket, received: '', closed: false };
  socket.on('data', (d: Buffer) => (state.received += d.toString()));
  socket.on('close', () => (state.closed = true));
  socket.on('error', () => undefined);
  return state;
}

describe('TcpProxy (test support)', () => {
  let echo: Server;
  let echoPort: number;
  /** Everything the echo server received, across connections. */
  let serverSaw = '';
  const serverSockets: Socket[] = [];

  beforeAll(async () => {
    echo = createServer((s) => {
      serverSockets.push(s);
      s.on('data', (d: Buffer) => {
        serverSaw += d.toString();
        s.write(`echo:${d.toString()}`);
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    echoPort = (echo.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of serverSockets) s.destroy();
    await new Promise<void>((r) => echo.close(() => r()));
  });

  const withProxy = async (
    run: (proxy: TcpProxy) => Promise<void>,
    latency: { up?: number; down?: number } = {},
  ) => {
    const proxy = await startTcpProxy({
      targetPort: echoPort,
      port: 6450,
      upstreamDelayMs: latency.up,
      downstreamDelayMs: latency.down,
    });
    try {
      await run(proxy);
    } finally {
      await proxy.stop();
    }
  };

  it('should forward both ways in order when no fault is armed', async () => {
    await withProxy(async (proxy) => {
      const c = await client(proxy.port);
      for (const part of ['a', 'b', 'c']) c.socket.write(part);
      await waitFor(() => c.received.replace(/echo:/g, '') === 'abc', 'echo abc');
      c.socket.destroy();
    });
  });

  it('should delay each direction by its latency when latency is set', async () => {
    await withProxy(
      async (proxy) => {
        const c = await client(proxy.port);
        const sent = Date.now();
        c.socket.write('ping');
        await waitFor(() => c.received === 'echo:ping', 'delayed echo', 5000, 5);
        // Lower bound only: both legs (150 + 100 ms) must have been waited for.
        expect(Date.now() - sent).toBeGreaterThanOrEqual(240);
        c.socket.destroy();
      },
      { up: 150, down: 100 },
    );
  });

  it('should close every connection when cutAll is called', async () => {
    await withProxy(async (proxy) => {
      const a = await client(proxy.port);
      const b = await client(proxy.port);
      await waitFor(() => proxy.connections === 2, 'two connections');
      proxy.cutAll();
      await waitFor(() => a.closed && b.closed, 'both closed');
      expect(proxy.cuts).toBe(2);
      // The proxy still accepts new connections afterwards.
      const c = await client(proxy.port);
      c.socket.write('again');
      await waitFor(() => c.received === 'echo:again', 'echo after cut');
      c.socket.destroy();
    });
  });

  it('should forward the matching chunk then cut before the reply when a rule is armed', async () => {
    await withProxy(async (proxy) => {
      const c = await client(proxy.port);
      c.socket.write('before');
      await waitFor(() => c.received === 'echo:before', 'first echo');
      const done = proxy.cutAfter({ match: (chunk) => chunk.includes('SCRIPT') });
      serverSaw = '';
      c.socket.write('run SCRIPT');
      await done;
      await waitFor(() => c.closed, 'client cut');
      expect(serverSaw).toBe('run SCRIPT');
      expect(c.received).toBe('echo:before');
      // One-shot: the next connection passes matching chunks through.
      const d = await client(proxy.port);
      d.socket.write('SCRIPT again');
      await waitFor(() => d.received === 'echo:SCRIPT again', 'rule spent');
      d.socket.destroy();
    });
  });
});

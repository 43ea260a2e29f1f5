import { IncomingMessage, ServerResponse, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 1500;

describe('HTTP hygiene (e2e)', () => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startTestGateway(
      {},
      {
        http: {
          headersTimeoutMs: HEADERS_TIMEOUT_MS,
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
          connectionsCheckingIntervalMs: 200,
        },
      },
    );
  });

  afterAll(async () => {
    await gw.shutdown();
  });

  it('should cut 500 sockets trickling headers while a normal client is unaffected', async () => {
    const { port } = new URL(gw.url);
    const stream = await openStream(gw.url, '/events?topic=hygiene');
    let closed = 0;
    const sockets: Socket[] = [];
    await Promise.all(
      Array.from(
        { length: 500 },
        () =>
          new Promise<void>((ready) => {
            const socket = connect(Number(port), '127.0.0.1', () => {
              socket.write('GET /events?topic=slow HTTP/1.1\r\nHost: herald\r\n');
              ready();
            });
            socket.on('error', () => undefined);
            socket.on('close', () => closed++);
            sockets.push(socket);
          }),
      ),
    );
    const trickle = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 150);
    try {
      // The normal client keeps working during the attack.
      const health = await fetch(`${gw.url}/health/live`);
      expect(health.status).toBe(200);
      const { body } = await publish(gw.url, { topic: 'hygiene', data: 'during' });
      await waitFor(() => stream.events.some((e) => e.id === body.id), 'event during attack');
      await waitFor(() => closed === 500, `slow sockets cut (${closed}/500)`, 20_000, 50);
    } finally {
      clearInterval(trickle);
      for (const s of sockets) s.destroy();
    }
    const after = await openStream(gw.url, '/events?topic=hygiene');
    expect(after.status).toBe(200);
    await after.close();
    await stream.close();
  });

  it("should create every request and response on Express's prototypes, before Express runs", async () => {
    const server: Server = gw.app.getHttpServer();
    const app: Express = gw.app.getHttpAdapter().getInstance();
    const born: boolean[] = [];
    // Runs before the app: Express's own `setPrototypeOf` has not happened yet.
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      born.push(
        Object.getPrototypeOf(req) === app.request &&
          Object.getPrototypeOf(res) === app.response &&
          req instanceof IncomingMessage &&
          res instanceof ServerResponse,
      );
    };
    server.prependListener('request', onRequest);
    try {
      expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);
      const stream = await openStream(gw.url, '/events?topic=born');
      expect(stream.status).toBe(200);
      const { body } = await publish(gw.url, { topic: 'born', data: 'x' });
      await waitFor(() => stream.events.some((e) => e.id === body.id), 'event on the stream');
      await stream.close();
    } finally {
      server.off('request', onRequest);
    }
    expect(born.length).toBeGreaterThanOrEqual(3);
    expect(born.every(Boolean)).toBe(true);
  });

  it('should keep an open stream past headersTimeout and requestTimeout', async () => {
    const stream = await openStream(gw.url, '/events?topic=long');
    await sleep(REQUEST_TIMEOUT_MS + HEADERS_TIMEOUT_MS + 500);
    expect(stream.ended).toBe(false);
    const { body } = await publish(gw.url, { topic: 'long', data: 'late' });
    await waitFor(() => stream.events.some((e) => e.id === body.id), 'late event');
    await stream.close();
  });

  it('should answer 431 to oversized headers or a 64 KiB query when they pass maxHeaderSize', async () => {
    const big = await fetch(`${gw.url}/events?topic=x`, {
      headers: { 'X-Big': 'a'.repeat(20_000) },
    });
    expect(big.status).toBe(431);
    const query = await fetch(`${gw.url}/events?topic=${'a'.repeat(64 * 1024)}`);
    expect(query.status).toBe(431);
  });
});

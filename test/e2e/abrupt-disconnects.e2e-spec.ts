import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '@herald/broker';
import { ConnectionRegistry } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, type SseStream } from '../support/sse-client';
import { scrape, value } from '../support/telemetry';
import { bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

type Mode = 'during-auth' | 'after-open' | 'soon';

/** One raw stream request that the client drops abruptly (no FIN handshake niceties). */
function dropOne(port: number, token: string, mode: Mode, i: number): Promise<void> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    const finish = () => {
      socket.destroy();
      done();
    };
    socket.on('error', finish);
    socket.on('close', () => done());
    socket.on('connect', () => {
      socket.write(
        `GET /events?topic=storm/${i % 20}&topic=storm/** HTTP/1.1\r\nHost: x\r\n` +
          `Accept: text/event-stream\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      if (mode === 'during-auth') finish();
      else if (mode === 'soon') setTimeout(finish, i % 7);
    });
    socket.once('data', () => {
      if (mode === 'after-open') finish();
    });
    setTimeout(finish, 5000);
  });
}

describe('Abrupt client disconnects (RELIABILITY 24)', () => {
  let gw: Gateway;
  const token = hs256(claims({ subscribe: ['**'] }, { sub: 'stormy' }));

  beforeAll(async () => {
    gw = await startTestGateway({ ANONYMOUS_TOPICS: '', MAX_CONNECTIONS_PER_USER: '5' });
  });
  afterAll(async () => {
    await gw.app.close();
  });

  it('should return every counter to baseline after 2,000 abrupt disconnects', async () => {
    const port = Number(new URL(gw.url).port);
    const broker = gw.app.get(Broker);
    const registry = gw.app.get(ConnectionRegistry);
    const baseSubs = broker.stats().subscriptions;
    const modes: Mode[] = ['during-auth', 'after-open', 'soon'];
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => dropOne(port, token, modes[(batch + i) % 3], i)),
      );
    }
    await waitFor(() => registry.size === 0, 'registry empty', 10_000);
    await waitFor(() => broker.stats().subscriptions === baseSubs, 'subscriptions freed', 10_000);
    await waitFor(
      async () => value(await scrape(gw.url), 'herald_connections') === 0,
      'connections gauge back to 0',
      10_000,
      50,
    );
    // Every per-user lease was released: the user can open its full quota again.
    const streams: SseStream[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        streams.push(await openStream(gw.url, '/events?topic=storm/x', { headers: bearer(token) }));
      }
      await waitFor(() => streams.every((s) => s.retries.length > 0), 'quota streams open');
      await new Promise((r) => setTimeout(r, 200));
      expect(streams.every((s) => s.events.every((e) => e.event !== 'herald.shed'))).toBe(true);
      expect(registry.size).toBe(5);
    } finally {
      for (const s of streams) await s.close();
    }
  });
});

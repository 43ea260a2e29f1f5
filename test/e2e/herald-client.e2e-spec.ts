import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldClient, type HeraldState } from '@herald/client';
import { ConnectionRegistry } from '@herald/streams';
import { startTestGateway, type Gateway } from '../support/gateway';
import { publish } from '../support/sse-client';
import { sleep, waitFor } from '../support/wait';

/** The browser helper against a real gateway, in Node with the `eventsource` package. */
describe('HeraldClient (Node, eventsource 4.x)', () => {
  let gw: Gateway;
  const clients: HeraldClient[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ RETRY_MS: '20' });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await gw.app.close();
  });

  const start = (topic: string) => {
    const states: HeraldState[] = [];
    const ids: string[] = [];
    const client = new HeraldClient({
      url: gw.url,
      topics: [topic],
      EventSource,
      onStateChange: (state) => states.push(state),
    });
    clients.push(client);
    client.on('message', (e) => ids.push(e.id));
    client.connect();
    return { client, states, ids };
  };
  const send = async (topic: string, n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++)
      out.push((await publish(gw.url, { topic, data: i })).body.id as string);
    return out;
  };

  it('should receive events and follow server-side drops without gap or duplicate', async () => {
    const { states, ids } = start('hc/drops');
    await waitFor(() => states.includes('open'), 'open');
    const published = await send('hc/drops', 3);
    const registry = gw.app.get(ConnectionRegistry);
    for (let drop = 0; drop < 5; drop++) {
      const opens = states.filter((s) => s === 'open').length;
      for (const c of registry.values()) if (c.meta.topics.includes('hc/drops')) c.abort('error');
      published.push(...(await send('hc/drops', 2)));
      await waitFor(() => states.filter((s) => s === 'open').length > opens, `reopen ${drop}`);
    }
    await waitFor(() => ids.length >= published.length, 'all events');
    await sleep(50);
    expect(ids).toEqual(published);
    expect(states.slice(0, 3)).toEqual(['connecting', 'open', 'reconnecting']);
  });

  it("should start with the newest event with since: 'latest', then resume from its cursor", async () => {
    const [, newest] = await send('hc/latest', 2);
    const ids: string[] = [];
    const client = new HeraldClient({
      url: gw.url,
      topics: ['hc/latest'],
      EventSource,
      since: 'latest',
    });
    clients.push(client);
    client.on('message', (e) => ids.push(e.id));
    client.connect();
    await waitFor(() => ids.length >= 1, 'the latest event');
    expect(ids).toEqual([newest]);
    const registry = gw.app.get(ConnectionRegistry);
    for (const c of registry.values()) if (c.meta.topics.includes('hc/latest')) c.abort('error');
    const later = await send('hc/latest', 2);
    await waitFor(() => ids.length >= 3, 'the events after the drop');
    await sleep(50);
    // Reconnects resume from the cursor: no second "latest" replay, nothing lost.
    expect(ids).toEqual([newest, ...later]);
  });

  it('should resume from its cursor when reconnect() is called', async () => {
    const { client, states, ids } = start('hc/resume');
    await waitFor(() => states.includes('open'), 'open');
    const before = await send('hc/resume', 2);
    await waitFor(() => ids.length === 2, 'first events');
    client.close();
    const missed = await send('hc/resume', 3); // published while closed
    client.reconnect();
    await waitFor(() => ids.length === 5, 'replayed events');
    await sleep(50);
    expect(ids).toEqual([...before, ...missed]);
    expect(client.cursor).toBe(missed.at(-1));
  });

  it('should end closed (refused) when the gateway answers 400', async () => {
    const { client } = start('bad//topic');
    await waitFor(() => client.state === 'closed', 'closed');
  });
});

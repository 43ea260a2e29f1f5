import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';
import { sleep, waitFor } from '../support/wait';

interface Listed {
  id: string;
  sub: string | null;
  ip: string;
  topics: string[];
  connectedAt: string;
  lastEventId: string;
  bytesSent: number;
  instance: string;
}

const token = (sub: string, grants: { subscribe?: string[]; admin?: boolean }) =>
  hs256(claims(grants, { sub }));

describe('Admin API', () => {
  let gw: Gateway;
  const streams: SseStream[] = [];
  const admin = token('ops', { admin: true });

  beforeAll(async () => {
    gw = await startTestGateway({ ANONYMOUS_TOPICS: '', INSTANCE_ID: 'admin-test-1' });
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    await gw.app.close();
  });
  const open = async (sub: string, topics: string) => {
    const s = await openStream(gw.url, `/events?${topics}`, {
      headers: bearer(token(sub, { subscribe: ['**'] })),
    });
    expect(s.status).toBe(200);
    streams.push(s);
    return s;
  };
  const list = async (): Promise<Listed[]> => {
    const res = await fetch(`${gw.url}/admin/connections`, { headers: bearer(admin) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { count: number; connections: Listed[] };
    expect(body.count).toBe(body.connections.length);
    return body.connections;
  };

  it('should refuse every admin route without a token (401) or without admin (403)', async () => {
    const routes: [string, string, string?][] = [
      ['GET', '/admin/connections'],
      ['DELETE', '/admin/connections/abc'],
      ['POST', '/admin/revocations', '{"sub":"x"}'],
    ];
    const user = token('user', { subscribe: ['**'] });
    for (const [method, path, body] of routes) {
      const init = { method, body, headers: { 'Content-Type': 'application/json' } };
      const anonymous = await fetch(`${gw.url}${path}`, init);
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      const plain = await fetch(`${gw.url}${path}`, {
        ...init,
        headers: { ...init.headers, ...bearer(user) },
      });
      expect(plain.status, `${method} ${path}`).toBe(403);
    }
  });

  it('should list every open stream with its details', async () => {
    const a = await open('alice', 'topic=adm/a&topic=adm/**');
    await open('bob', 'topic=adm/b');
    const { body } = await publish(gw.url, { topic: 'adm/a', data: 1 });
    await a.waitForEvents(1);
    const listed = await list();
    const alice = listed.find((c) => c.sub === 'alice');
    expect(alice).toMatchObject({
      sub: 'alice',
      ip: '127.0.0.1',
      topics: ['adm/a', 'adm/**'],
      lastEventId: body.id,
      instance: 'admin-test-1',
    });
    expect(alice!.bytesSent).toBeGreaterThan(0);
    expect(Date.parse(alice!.connectedAt)).toBeLessThanOrEqual(Date.now());
    expect(listed.some((c) => c.sub === 'bob')).toBe(true);
  });

  it('should close one stream by id, then answer 404 for it and 400 for a bad id', async () => {
    const s = await open('carol', 'topic=adm/c');
    const target = (await list()).find((c) => c.sub === 'carol')!;
    const res = await fetch(`${gw.url}/admin/connections/${target.id}`, {
      method: 'DELETE',
      headers: bearer(admin),
    });
    expect(res.status).toBe(204);
    await s.waitForEnd();
    await waitFor(async () => !(await list()).some((c) => c.id === target.id), 'gone from list');
    const again = await fetch(`${gw.url}/admin/connections/${target.id}`, {
      method: 'DELETE',
      headers: bearer(admin),
    });
    expect(again.status).toBe(404);
    const bad = await fetch(`${gw.url}/admin/connections/${'x'.repeat(80)}`, {
      method: 'DELETE',
      headers: bearer(admin),
    });
    expect(bad.status).toBe(400);
  });

  it('should revoke a subject: close its streams, refuse its old tokens, 204 for EventSource', async () => {
    const oldToken = token('mallory', { subscribe: ['**'] });
    const m1 = await openStream(gw.url, '/events?topic=adm/m', { headers: bearer(oldToken) });
    const m2 = await openStream(gw.url, '/events?topic=adm/m2', { headers: bearer(oldToken) });
    const other = await open('dave', 'topic=adm/m');
    const res = await fetch(`${gw.url}/admin/revocations`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...bearer(admin) },
      body: JSON.stringify({ sub: 'mallory' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: 'mallory', closed: 2 });
    await m1.waitForEnd();
    await m2.waitForEnd();
    expect(other.ended).toBe(false);
    const reconnect = await fetch(`${gw.url}/events?topic=adm/m`, {
      headers: { Accept: 'text/event-stream', ...bearer(oldToken) },
    });
    expect(reconnect.status).toBe(204);
    const api = await fetch(`${gw.url}/events?topic=adm/m`, {
      headers: { Accept: 'application/json', ...bearer(oldToken) },
    });
    expect(api.status).toBe(403);
    // A token issued after the revocation (next second) is accepted again.
    await sleep(1100);
    const fresh = await openStream(gw.url, '/events?topic=adm/m', {
      headers: bearer(token('mallory', { subscribe: ['**'] })),
    });
    streams.push(fresh);
    expect(fresh.status).toBe(200);
  });

  it('should refuse a revocation body without a valid sub with 400', async () => {
    for (const body of ['{}', '{"sub":""}', '{"sub":5}', '[]']) {
      const res = await fetch(`${gw.url}/admin/revocations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...bearer(admin) },
        body,
      });
      expect(res.status, body).toBe(400);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { publish } from '../support/sse-client';
import { bearer, claims, hs256 } from '../support/tokens';

const token = (sub: string, grants: { subscribe?: string[]; admin?: boolean }) =>
  hs256(claims(grants, { sub }));

describe('GET /admin/topics/<topic> (memory broker, HISTORY_POLICIES)', () => {
  let gw: Gateway;
  const admin = token('ops', { admin: true });

  beforeAll(async () => {
    gw = await startTestGateway({
      HISTORY_SIZE: '50',
      HISTORY_TTL_S: '600',
      HISTORY_POLICIES: 'chat/**=3:60,prices/*=1:30',
    });
  });
  afterAll(async () => {
    await gw.app.close();
  });

  const info = (topic: string) =>
    fetch(`${gw.url}/admin/topics/${topic}`, { headers: bearer(admin) });

  it('should show the policy in force and the retained count of a topic', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await publish(gw.url, { topic: 'chat/room-1', data: { i } })).status).toBe(202);
      expect((await publish(gw.url, { topic: 'news/x', data: { i } })).status).toBe(202);
    }
    const chat = await info('chat/room-1');
    expect(chat.status).toBe(200);
    expect(await chat.json()).toEqual({
      topic: 'chat/room-1',
      policy: { pattern: 'chat/**', size: 3, ttlSeconds: 60 },
      retained: 3,
    });
    expect(await (await info('news/x')).json()).toEqual({
      topic: 'news/x',
      policy: { pattern: null, size: 50, ttlSeconds: 600 },
      retained: 5,
    });
    expect(await (await info('prices/eur')).json()).toMatchObject({
      policy: { pattern: 'prices/*', size: 1, ttlSeconds: 30 },
      retained: 0,
    });
  });

  it('should refuse a pattern (400), no token (401) and a non-admin (403)', async () => {
    const pattern = await info('chat/*');
    expect(pattern.status).toBe(400);
    expect(await pattern.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect((await fetch(`${gw.url}/admin/topics/chat/x`)).status).toBe(401);
    const user = await fetch(`${gw.url}/admin/topics/chat/x`, {
      headers: bearer(token('u', { subscribe: ['**'] })),
    });
    expect(user.status).toBe(403);
  });
});

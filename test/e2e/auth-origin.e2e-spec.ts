import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish, type SseStream } from '../support/sse-client';
import { PUBLISHER_TOKEN, bearer } from '../support/tokens';
import { sleep } from '../support/wait';

const APP = 'https://app.example.com';

describe('Auth: origins (RELIABILITY 14)', () => {
  let gw: Gateway;
  let open: Gateway;
  const streams: SseStream[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({
      ANONYMOUS_TOPICS: '',
      CORS_ORIGINS: `${APP},http://localhost:5173`,
    });
    open = await startTestGateway({ ANONYMOUS_TOPICS: '' });
  });
  afterAll(async () => {
    for (const s of streams) await s.close();
    await gw.app.close();
    await open.app.close();
  });

  it('should allow a listed origin with credentials and no other origin echoed', async () => {
    const res = await fetch(`${gw.url}/health/live`, { headers: { Origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it('should answer a preflight from a listed origin with 204 and the allowed headers', async () => {
    const res = await fetch(`${gw.url}/events`, {
      method: 'OPTIONS',
      headers: {
        Origin: APP,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'authorization',
    );
  });

  it.each([
    'https://evil.example',
    'https://app.example.com.evil.example',
    'http://app.example.com',
    'https://APP.example.com',
    'https://app.example.com:443',
    'null',
  ])('should refuse Origin %s with 403 and no CORS grant', async (origin) => {
    for (const init of <RequestInit[]>[
      { headers: { Origin: origin } },
      {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      },
    ]) {
      const res = await fetch(`${gw.url}/health/live`, init);
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(await res.json()).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    }
  });

  it('should refuse a cookie-authenticated publish and stream from an unlisted origin', async () => {
    const watcher = await openStream(gw.url, '/events?topic=**', {
      headers: bearer(PUBLISHER_TOKEN),
    });
    streams.push(watcher);
    const cookie = { Cookie: `herald_token=${PUBLISHER_TOKEN}`, Authorization: '' };
    const evil = await publish(
      gw.url,
      { topic: 'csrf/x', data: 'forged' },
      { ...cookie, Origin: 'https://evil.example' },
    );
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const stream = await fetch(`${gw.url}/events?topic=csrf/x`, {
      headers: {
        Accept: 'text/event-stream',
        Origin: 'https://evil.example',
        Cookie: cookie.Cookie,
      },
    });
    expect(stream.status).toBe(403);
    const good = await publish(gw.url, { topic: 'csrf/x', data: 'ok' }, { ...cookie, Origin: APP });
    expect(good.status).toBe(202);
    expect(good.headers.get('access-control-allow-origin')).toBe(APP);
    await watcher.waitForEvents(1);
    await sleep(100);
    expect(watcher.dataEvents.map((e) => e.data)).toEqual(['"ok"']);
  });

  it('should let requests without Origin, or from the gateway own origin, through', async () => {
    expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);
    const same = await fetch(`${gw.url}/health/live`, { headers: { Origin: gw.url } });
    expect(same.status).toBe(200);
    expect(same.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('should never send CORS headers when CORS_ORIGINS is empty', async () => {
    const res = await fetch(`${open.url}/health/live`, { headers: { Origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

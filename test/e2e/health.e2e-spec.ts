import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';

describe('Health and demo', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.app.close();
  });

  it('should answer live, ready and /health with 200 when serving', async () => {
    expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${gw.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { broker: { status: 'up' } } });
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  it('should serve the demo page and its script at /', async () => {
    const page = await fetch(`${gw.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('/demo.js');
    const script = await fetch(`${gw.url}/demo.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
  });
});

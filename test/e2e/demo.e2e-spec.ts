import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';

/** The demo page's files (scripts come from `npm run build`, which `npm test` runs first). */
describe('DemoController', () => {
  let dev: Gateway;
  let prod: Gateway;

  beforeAll(async () => {
    // As `npm start` on a fresh clone: development without a key (ephemeral secret, /dev/token).
    dev = await startTestGateway({ NODE_ENV: 'development', JWT_SECRET: '', ANONYMOUS_TOPICS: '' });
    prod = await startTestGateway({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
  });
  afterAll(async () => {
    await dev.app.close();
    await prod.app.close();
  });

  it('should serve the page with a strict same-origin CSP and the mode filled in', async () => {
    const res = await fetch(`${dev.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'"]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    const html = await res.text();
    expect(html).not.toContain('{{');
    expect(html).toContain('<meta name="herald-mode" content="development" />');
    expect(html).toContain('<meta name="herald-dev-token" content="/dev/token?role=publisher" />');
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/i);
  });

  it('should hide development features when NODE_ENV is production', async () => {
    const html = await (await fetch(`${prod.url}/`)).text();
    expect(html).toContain('<meta name="herald-mode" content="production" />');
    expect(html).toContain('<meta name="herald-dev-token" content="" />');
  });

  it('should serve the stylesheet, the page script and the browser helper as modules', async () => {
    const css = await fetch(`${dev.url}/demo.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    for (const path of ['/demo.js', '/herald-client.js']) {
      const res = await fetch(`${dev.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const client = await (await fetch(`${dev.url}/herald-client.js`)).text();
    expect(client).toContain('export class HeraldClient');
    expect(client).not.toMatch(/\brequire\(|exports\./);
    const demo = await (await fetch(`${dev.url}/demo.js`)).text();
    expect(demo).toContain("from './herald-client.js'");
  });
});

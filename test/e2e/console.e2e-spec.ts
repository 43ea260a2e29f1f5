import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';

const uplotDist = join(dirname(createRequire(__filename).resolve('uplot/package.json')), 'dist');

/** The operator console's files (scripts come from `npm run build`, which `npm test` runs first). */
describe('ConsoleController (GET /console)', () => {
  let gw: Gateway;

  beforeAll(async () => {
    gw = await startTestGateway({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) });
  });
  afterAll(async () => {
    await gw.app.close();
  });

  it('should serve the page without a token under the strict same-origin CSP', async () => {
    const res = await fetch(`${gw.url}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    const html = await res.text();
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/i);
    for (const src of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      const asset = await fetch(`${gw.url}${src[1]}`);
      expect(asset.status, src[1]).toBe(200);
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('should name /dev/token for an admin token only in development without a key', async () => {
    const html = await (await fetch(`${gw.url}/console`)).text();
    expect(html).toContain('<meta name="herald-dev-token" content="" />');
    const dev = await startTestGateway({ NODE_ENV: 'development', JWT_SECRET: '' });
    try {
      const devHtml = await (await fetch(`${dev.url}/console`)).text();
      const url = /name="herald-dev-token" content="([^"]+)"/.exec(devHtml)?.[1] ?? '';
      expect(url).toMatch(/^\/dev\/token\?/);
      const { token } = (await (await fetch(`${dev.url}${url.replace(/&amp;/g, '&')}`)).json()) as {
        token: string;
      };
      const overview = await fetch(`${dev.url}/admin/overview`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(overview.status).toBe(200);
    } finally {
      await dev.app.close();
    }
  });

  it('should serve uPlot from the installed package, byte for byte', async () => {
    for (const [path, file, type] of [
      ['/console/vendor/uplot.iife.min.js', 'uPlot.iife.min.js', 'text/javascript'],
      ['/console/vendor/uplot.min.css', 'uPlot.min.css', 'text/css'],
    ]) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(readFileSync(join(uplotDist, file)));
    }
  });

  it('should serve the compiled console script and its model as modules', async () => {
    const script = await (await fetch(`${gw.url}/console/console.js`)).text();
    expect(script).toContain("from './console.model.js'");
    const model = await fetch(`${gw.url}/console/console.model.js`);
    expect(model.status).toBe(200);
    expect(await model.text()).toContain('export class ConsoleHistory');
  });

  it('should answer 404 JSON for files outside its allowlist', async () => {
    const res = await fetch(`${gw.url}/console/vendor/..%2F..%2Fpackage.json`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

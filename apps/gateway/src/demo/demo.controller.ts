import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { Controller, Get, HttpCode, Logger, Res } from '@nestjs/common';
import { Public } from '@herald/auth';
import { HeraldConfig } from '@herald/config';

/**
 * The page's own policy: everything from this origin only, no inline script or style. Browsers
 * enforce every CSP header they get, so a stricter global policy still applies on top.
 */
export const DEMO_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Walks up from this file to the first directory holding `relative` (source tree or `dist/`). */
function findUp(relative: string): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    for (const candidate of [join(dir, relative), join(dir, 'dist', relative)]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = dirname(dir);
  }
  return undefined;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/**
 * Served files: static ones from `apps/gateway/public`, scripts compiled from
 * `apps/gateway/browser` and `libs/client` into `dist/browser` by `npm run build`.
 */
const ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'apps/gateway/public/index.html',
  'demo.css': 'apps/gateway/public/demo.css',
  'demo.js': 'browser/apps/gateway/browser/demo.js',
  'herald-client.js': 'browser/libs/client/src/herald-client.js',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

/**
 * `GET /` (the demo page, CONTRACT section 5), its stylesheet, its script and the browser helper
 * `GET /herald-client.js`. Files are read once at boot; a missing build answers 503.
 */
@Controller()
@Public()
export class DemoController {
  private readonly logger = new Logger(DemoController.name);
  private readonly files = new Map<string, Asset>();

  constructor(config: HeraldConfig) {
    const mode = config.isProduction ? 'production' : 'development';
    // CONTRACT section 3: development without a JWT key serves GET /dev/token for this page.
    // A publisher token also grants subscribe on the same topics, so the page needs just one.
    const devToken = config.isAuthDevMode ? '/dev/token?role=publisher' : '';
    for (const [name, relative] of Object.entries(ASSETS)) {
      const path = findUp(relative);
      if (!path) {
        this.logger.warn(`demo asset ${relative} not found (run npm run build)`);
        continue;
      }
      let body = readFileSync(path);
      if (name === 'index.html') {
        body = Buffer.from(
          body.toString().replace('{{HERALD_MODE}}', mode).replace('{{DEV_TOKEN_URL}}', devToken),
        );
      }
      this.files.set(name, { body, type: TYPES[extname(name)] });
    }
  }

  @Get()
  index(@Res() res: ServerResponse): void {
    this.send(res, 'index.html');
  }

  @Get('demo.css')
  stylesheet(@Res() res: ServerResponse): void {
    this.send(res, 'demo.css');
  }

  @Get('demo.js')
  script(@Res() res: ServerResponse): void {
    this.send(res, 'demo.js');
  }

  /** The browser helper (`libs/client`) as an ES module. */
  @Get('herald-client.js')
  client(@Res() res: ServerResponse): void {
    this.send(res, 'herald-client.js');
  }

  @Get('favicon.ico')
  @HttpCode(204)
  favicon(): void {}

  private send(res: ServerResponse, name: string): void {
    const file = this.files.get(name);
    if (!file) {
      const body = JSON.stringify({
        statusCode: 503,
        error: 'Service Unavailable',
        message: `${name} is not built; run npm run build`,
      });
      res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(body);
      return;
    }
    const headers: Record<string, string> = {
      'Content-Type': file.type,
      'Cache-Control': 'no-cache',
      'Content-Length': String(file.body.length),
      'X-Content-Type-Options': 'nosniff',
    };
    if (name === 'index.html') headers['Content-Security-Policy'] = DEMO_CSP;
    res.writeHead(200, headers);
    res.end(file.body);
  }
}

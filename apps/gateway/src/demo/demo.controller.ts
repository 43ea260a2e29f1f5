import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { Public } from '@herald/auth';

/** Finds `apps/gateway/public` from source (tests) or from `dist/` (npm start). */
function publicDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'apps', 'gateway', 'public');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('apps/gateway/public/index.html not found');
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/** `GET /` and its script: the demo page (CONTRACT section 5). Files are read once at boot. */
@Controller()
@Public()
export class DemoController {
  private readonly files = new Map<string, { body: Buffer; type: string }>(
    ['index.html', 'demo.js'].map((name) => [
      name,
      { body: readFileSync(join(publicDir(), name)), type: TYPES[extname(name)] },
    ]),
  );

  @Get()
  index(@Res() res: ServerResponse): void {
    this.send(res, 'index.html');
  }

  @Get('demo.js')
  script(@Res() res: ServerResponse): void {
    this.send(res, 'demo.js');
  }

  @Get('favicon.ico')
  @HttpCode(204)
  favicon(): void {}

  private send(res: ServerResponse, name: string): void {
    const file = this.files.get(name);
    if (!file) throw new Error(`demo file ${name} missing`);
    res.writeHead(200, {
      'Content-Type': file.type,
      'Cache-Control': 'no-cache',
      'Content-Length': String(file.body.length),
    });
    res.end(file.body);
  }
}

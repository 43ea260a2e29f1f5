import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { Controller, Get, Res } from '@nestjs/common';
import { Public } from '@herald/auth';
import { HeraldConfig } from '@herald/config';
import { StaticAssets, findUp } from '../demo/static.assets';

/** `<uplot>/dist/<file>`, resolved from node_modules at boot (uPlot is a runtime dependency). */
function uplot(file: string): string | undefined {
  try {
    const pkg = createRequire(__filename).resolve('uplot/package.json');
    return join(dirname(pkg), 'dist', file);
  } catch {
    return undefined;
  }
}

/**
 * `GET /console` (CONTRACT section 11): the operator console, a static page under the same CSP
 * as the demo page, plus its script, stylesheet and the uPlot chart library it draws with. The
 * page holds no data: it reads `/admin/*` with the operator's admin token (pasted into the page,
 * kept in sessionStorage) or the auth cookie, so these routes are public.
 */
@Controller('console')
@Public()
export class ConsoleController {
  private readonly assets: StaticAssets;

  constructor(config: HeraldConfig) {
    // Development without a JWT key (CONTRACT section 3): the page fetches an admin token from
    // /dev/token itself, so `npm start` and opening /console is enough.
    const devToken = config.isAuthDevMode ? '/dev/token?role=admin&sub=dev-console' : '';
    this.assets = new StaticAssets(ConsoleController.name, {
      'console.html': {
        path: findUp('apps/gateway/public/console.html'),
        page: true,
        transform: (text) => text.replace('{{DEV_TOKEN_URL}}', devToken),
      },
      'base.css': { path: findUp('apps/gateway/public/base.css') },
      'console.css': { path: findUp('apps/gateway/public/console.css') },
      'console.js': { path: findUp('browser/apps/gateway/browser/console.js') },
      'console.model.js': { path: findUp('browser/apps/gateway/browser/console.model.js') },
      'uplot.iife.min.js': { path: uplot('uPlot.iife.min.js') },
      'uplot.min.css': { path: uplot('uPlot.min.css') },
    });
  }

  @Get()
  page(@Res() res: ServerResponse): void {
    this.assets.send(res, 'console.html');
  }

  /** The stylesheet the console shares with the demo page (palette, frame, header). */
  @Get('base.css')
  baseStylesheet(@Res() res: ServerResponse): void {
    this.assets.send(res, 'base.css');
  }

  @Get('console.css')
  stylesheet(@Res() res: ServerResponse): void {
    this.assets.send(res, 'console.css');
  }

  @Get('console.js')
  script(@Res() res: ServerResponse): void {
    this.assets.send(res, 'console.js');
  }

  /** The console's pure model (rates, quantiles, the 15-minute window), an ES module. */
  @Get('console.model.js')
  model(@Res() res: ServerResponse): void {
    this.assets.send(res, 'console.model.js');
  }

  @Get('vendor/uplot.iife.min.js')
  uplotScript(@Res() res: ServerResponse): void {
    this.assets.send(res, 'uplot.iife.min.js');
  }

  @Get('vendor/uplot.min.css')
  uplotStylesheet(@Res() res: ServerResponse): void {
    this.assets.send(res, 'uplot.min.css');
  }
}

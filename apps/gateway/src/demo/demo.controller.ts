import type { ServerResponse } from 'node:http';
import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { Public } from '@herald/auth';
import { HeraldConfig } from '@herald/config';
import { PAGE_CSP, StaticAssets, findUp } from './static.assets';

/** The demo page's policy (the same as every Herald page). */
export const DEMO_CSP = PAGE_CSP;

/**
 * `GET /` (the demo page, CONTRACT section 5), its stylesheet, its script and the browser helper
 * `GET /herald-client.js`. Static ones come from `apps/gateway/public`, scripts are compiled from
 * `apps/gateway/browser` and `libs/client` into `dist/browser` by `npm run build`. Files are read
 * once at boot; a missing build answers 503.
 */
@Controller()
@Public()
export class DemoController {
  private readonly assets: StaticAssets;

  constructor(config: HeraldConfig) {
    const mode = config.isProduction ? 'production' : 'development';
    // CONTRACT section 3: development without a JWT key serves GET /dev/token for this page.
    // A publisher token also grants subscribe on the same topics, so the page needs just one.
    const devToken = config.isAuthDevMode ? '/dev/token?role=publisher' : '';
    // The Mercure section (apps/gateway/browser/mercure.ts) shows only with MERCURE=on.
    const mercure = config.MERCURE === 'on' ? config.MERCURE_PROTOCOL : 'off';
    this.assets = new StaticAssets(DemoController.name, {
      'index.html': {
        path: findUp('apps/gateway/public/index.html'),
        page: true,
        transform: (text) =>
          text
            .replace('{{HERALD_MODE}}', mode)
            .replace('{{DEV_TOKEN_URL}}', devToken)
            .replace('{{HERALD_MERCURE}}', mercure)
            .replace('{{PRESENCE_TOPICS}}', escapeAttribute(config.PRESENCE_TOPICS.join(','))),
      },
      'base.css': { path: findUp('apps/gateway/public/base.css') },
      'demo.css': { path: findUp('apps/gateway/public/demo.css') },
      'demo.js': { path: findUp('browser/apps/gateway/browser/demo.js') },
      'mercure.js': { path: findUp('browser/apps/gateway/browser/mercure.js') },
      'presence-panel.js': { path: findUp('browser/apps/gateway/browser/presence-panel.js') },
      'herald-client.js': { path: findUp('browser/libs/client/src/herald-client.js') },
    });
  }

  @Get()
  index(@Res() res: ServerResponse): void {
    this.assets.send(res, 'index.html');
  }

  /** The stylesheet the demo page shares with the console (palette, frame, header). */
  @Get('base.css')
  baseStylesheet(@Res() res: ServerResponse): void {
    this.assets.send(res, 'base.css');
  }

  @Get('demo.css')
  stylesheet(@Res() res: ServerResponse): void {
    this.assets.send(res, 'demo.css');
  }

  @Get('demo.js')
  script(@Res() res: ServerResponse): void {
    this.assets.send(res, 'demo.js');
  }

  /** The Mercure section's script. */
  @Get('mercure.js')
  mercureScript(@Res() res: ServerResponse): void {
    this.assets.send(res, 'mercure.js');
  }

  /** The presence panel (its own module: who is on a topic, live). */
  @Get('presence-panel.js')
  presencePanel(@Res() res: ServerResponse): void {
    this.assets.send(res, 'presence-panel.js');
  }

  /** The browser helper (`libs/client`) as an ES module. */
  @Get('herald-client.js')
  client(@Res() res: ServerResponse): void {
    this.assets.send(res, 'herald-client.js');
  }

  @Get('favicon.ico')
  @HttpCode(204)
  favicon(): void {}
}

/** `value` safe inside a double-quoted HTML attribute. */
function escapeAttribute(value: string): string {
  return value.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
}

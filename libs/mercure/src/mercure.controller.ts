import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { Public } from '@herald/auth';
import { HeraldStream, StreamRoute } from '@herald/streams';
import { MercureError } from './mercure.errors';
import { MercureIdStore } from './mercure.id-store';
import { MERCURE_MODULE_OPTIONS } from './mercure.module-definition';
import type { MercureModuleOptions } from './mercure.options';
import { EARLIEST, mercureToken } from './mercure.request';
import { MercureService } from './mercure.service';
import type { MercureSubscriptionDoc } from './mercure.subscription-store';
import { MERCURE_CONTEXT, MercureSubscriptions, SUBSCRIPTIONS_PATH } from './mercure.subscriptions';
import { anyMatches, MercureTokens } from './mercure.tokens';

/**
 * The hub: `GET /.well-known/mercure` (a Herald stream in the Mercure dialect), `POST` (publish)
 * and, with MERCURE_SUBSCRIPTIONS=true, the subscriptions API. Mercure authenticates with its
 * own tokens, so the routes are `@Public()` to Herald's guards.
 */
@Controller('.well-known/mercure')
export class MercureController {
  constructor(
    private readonly mercure: MercureService,
    private readonly subscriptions: MercureSubscriptions,
    private readonly tokens: MercureTokens,
    private readonly ids: MercureIdStore,
    @Inject(MERCURE_MODULE_OPTIONS) private readonly options: MercureModuleOptions,
  ) {}

  /** Subscribe: `match` / `match_urlpattern` (1.0) or `topic` (0.x) selectors. */
  @Public()
  @StreamRoute()
  subscribe(): HeraldStream {
    return this.mercure.stream();
  }

  /** Publish one update: `200 text/plain` with its id. */
  @Public()
  @Post()
  @HttpCode(200)
  async publish(
    @Req() req: IncomingMessage,
    @Res({ passthrough: true }) res: ServerResponse,
  ): Promise<string> {
    const id = await this.mercure.publish(req, res);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    return id;
  }

  /** Every active subscription. */
  @Public()
  @Get('subscriptions')
  all(@Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.answer(req, res, SUBSCRIPTIONS_PATH, () => true, false);
  }

  /** The active subscriptions of one selector. */
  @Public()
  @Get('subscriptions/:topic')
  ofTopic(
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
    @Param('topic') topic: string,
  ): Promise<void> {
    const path = `${SUBSCRIPTIONS_PATH}/${encodeURIComponent(topic)}`;
    return this.answer(req, res, path, (d) => d.topic === topic, false);
  }

  /** One subscription (404 when it is not active). */
  @Public()
  @Get('subscriptions/:topic/:subscriber')
  one(
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
    @Param('topic') topic: string,
    @Param('subscriber') subscriber: string,
  ): Promise<void> {
    const path = `${SUBSCRIPTIONS_PATH}/${encodeURIComponent(topic)}/${encodeURIComponent(subscriber)}`;
    return this.answer(
      req,
      res,
      path,
      (d) => d.topic === topic && d.subscriber === subscriber,
      true,
    );
  }

  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    keep: (doc: MercureSubscriptionDoc) => boolean,
    single: boolean,
  ): Promise<void> {
    if (!this.subscriptions.enabled) {
      throw new MercureError(404, 'the subscriptions API is off (MERCURE_SUBSCRIPTIONS=false)');
    }
    const token = mercureToken(req, this.options.protocol !== 'v1');
    if (token === undefined) throw new MercureError(401, 'a Mercure access token is required');
    const grants = await this.tokens.verify(token, 'subscriber');
    if (!anyMatches(grants.subscribe, path)) {
      throw new MercureError(403, `the token may not read ${path}`, 'insufficient_scope');
    }
    const [docs, lastId] = await Promise.all([this.subscriptions.list(), this.ids.lastId()]);
    const lastEventID = lastId ?? EARLIEST;
    const found = docs.filter(keep);
    let body: unknown;
    if (single) {
      if (found.length === 0) throw new MercureError(404, `no active subscription at ${path}`);
      body = { '@context': MERCURE_CONTEXT, ...found[0], lastEventID };
    } else {
      body = {
        '@context': MERCURE_CONTEXT,
        id: path,
        type: 'Subscriptions',
        lastEventID,
        subscriptions: found,
      };
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/ld+json');
    res.setHeader('Cache-Control', 'must-revalidate');
    res.setHeader('Link', '</.well-known/mercure>; rel="mercure"');
    res.end(JSON.stringify(body));
  }
}

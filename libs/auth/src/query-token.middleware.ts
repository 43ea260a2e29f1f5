import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { stripQueryToken } from './token.extractor';

/**
 * Runs on every route: removes `?access_token=` from the URL (kept for the guards) so no log
 * line or router message sees it.
 */
@Injectable()
export class QueryTokenMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  use(req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void): void {
    stripQueryToken(req);
    next();
  }
}

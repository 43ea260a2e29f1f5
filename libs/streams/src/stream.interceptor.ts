import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { StreamPipeline } from './stream.pipeline';

/**
 * Hands a stream route to the {@link StreamPipeline}: the handler's Herald stream is written by
 * Herald (frame once, coalesced writes, bounded buffers), never by Nest's per-subscriber
 * `SseStream`. Guards have run before; pipes and the handler run inside, so their refusals
 * still reach the exception filter as real 4xx.
 */
@Injectable()
export class StreamInterceptor implements NestInterceptor {
  constructor(private readonly pipeline: StreamPipeline) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<undefined> {
    const http = context.switchToHttp();
    return this.pipeline.run(
      http.getRequest<IncomingMessage>(),
      http.getResponse<ServerResponse>(),
      next,
    );
  }
}

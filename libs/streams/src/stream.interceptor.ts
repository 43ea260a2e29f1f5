import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
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
  /** Per handler: no interceptor of the route runs inside this one (none can see events). */
  private readonly innermost = new WeakMap<object, boolean>();

  constructor(private readonly pipeline: StreamPipeline) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<undefined> {
    const http = context.switchToHttp();
    return this.pipeline.run(
      http.getRequest<IncomingMessage>(),
      http.getResponse<ServerResponse>(),
      next,
      this.isInnermost(context.getHandler()),
    );
  }

  /**
   * Interceptors a method declares above `@StreamRoute` run inside this one and may map the
   * handler's events: then every event goes through them (no direct path).
   */
  private isInnermost(handler: object): boolean {
    let innermost = this.innermost.get(handler);
    if (innermost === undefined) {
      const declared = Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined;
      innermost = declared?.at(-1) === StreamInterceptor;
      this.innermost.set(handler, innermost);
    }
    return innermost;
  }
}

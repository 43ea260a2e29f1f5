import type { IncomingMessage } from 'node:http';
import {
  Get,
  Res,
  UseInterceptors,
  createParamDecorator,
  type ExecutionContext,
} from '@nestjs/common';
import { StreamInterceptor } from './stream.interceptor';
import { queryTopics } from './subscription.request';

/**
 * Declares an SSE route served by Herald's stream pipeline: `GET` (and `HEAD`, headers only)
 * whose handler returns `StreamsService.events(topics)`, optionally piped through `map`/`filter`.
 * The pipeline owns the response (the route gets no `@Res()`), so Nest's own SSE writer, which
 * serializes per subscriber and buffers without bound, never runs. Guard the route as usual
 * (`@UseGuards(SubscriberGuard)`).
 */
export function StreamRoute(path?: string | string[]): MethodDecorator {
  return (target, key, descriptor) => {
    Get(path)(target, key, descriptor);
    UseInterceptors(StreamInterceptor)(target, key, descriptor);
    // Marks the response as handled (as `@Res()` would) on an argument past the handler's own,
    // so Nest neither writes a body nor waits on a value once the pipeline has answered.
    const declared = (
      Reflect.getMetadata('design:paramtypes', target, key) as unknown[] | undefined
    )?.length;
    Res()(target, key, declared ?? (descriptor.value as (...args: unknown[]) => unknown).length);
  };
}

/** The `?topic=` values (repeated) of a stream request, as `GET /events` takes them. */
export const StreamTopics = createParamDecorator((_: unknown, ctx: ExecutionContext): string[] =>
  queryTopics(ctx.switchToHttp().getRequest<IncomingMessage>()),
);

import type { IncomingMessage } from 'node:http';
import {
  Get,
  Res,
  UseInterceptors,
  createParamDecorator,
  type ExecutionContext,
} from '@nestjs/common';
import { streamScope } from './herald.stream';
import { StreamInterceptor } from './stream.interceptor';
import { queryTopics } from './subscription.request';

type Handler = (...args: unknown[]) => unknown;

/**
 * Declares an SSE route served by Herald's stream pipeline: `GET` (and `HEAD`, headers only)
 * whose handler returns `StreamsService.events(topics)`, optionally piped through `map`/`filter`.
 * The pipeline owns the response (the route gets no `@Res()`), so Nest's own SSE writer, which
 * serializes per subscriber and buffers without bound, never runs. Guard the route as usual
 * (`@UseGuards(SubscriberGuard)`). The handler is wrapped so the pipeline sees what it returned:
 * a Herald stream returned as it is gets its events written straight from the broker to the
 * connection; a piped one goes through its operators.
 */
export function StreamRoute(path?: string | string[]): MethodDecorator {
  return (target, key, descriptor) => {
    const original = descriptor.value as unknown as Handler;
    const declared =
      (Reflect.getMetadata('design:paramtypes', target, key) as unknown[] | undefined)?.length ??
      original.length;
    const handler = function (this: unknown, ...args: unknown[]): unknown {
      const value = original.apply(this, args);
      streamScope.getStore()?.returned(value);
      return value;
    };
    Object.defineProperty(handler, 'name', { value: original.name });
    // What decorators below this one set on the method (guards, pipes, throttling) stays on it.
    for (const metadataKey of Reflect.getOwnMetadataKeys(original) as unknown[]) {
      Reflect.defineMetadata(metadataKey, Reflect.getOwnMetadata(metadataKey, original), handler);
    }
    (descriptor as { value?: unknown }).value = handler;
    Get(path)(target, key, descriptor);
    UseInterceptors(StreamInterceptor)(target, key, descriptor);
    // Marks the response as handled (as `@Res()` would) on an argument past the handler's own,
    // so Nest neither writes a body nor waits on a value once the pipeline has answered.
    Res()(target, key, declared);
  };
}

/** The `?topic=` values (repeated) of a stream request, as `GET /events` takes them. */
export const StreamTopics = createParamDecorator((_: unknown, ctx: ExecutionContext): string[] =>
  queryTopics(ctx.switchToHttp().getRequest<IncomingMessage>()),
);

import type { IncomingMessage } from 'node:http';
import {
  BadRequestException,
  Injectable,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
  createParamDecorator,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import { HeraldConfig } from '@herald/config';
import { jsonTextDepth } from '@herald/publish';

/** Hands the raw request to {@link JsonBodyPipe}. */
export const RawRequest = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): IncomingMessage => ctx.switchToHttp().getRequest(),
);

/** Largest accepted `POST /events` body: a full batch of maximum events plus JSON overhead. */
export function maxPublishBodyBytes(config: HeraldConfig): number {
  return 100 * (config.MAX_EVENT_BYTES + 512) + 4096;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * Reads and parses a JSON body with a byte limit enforced while it streams in: `415` when not
 * JSON, `413` as soon as the limit is passed (the connection is then closed, memory stays flat),
 * `400` when it does not parse or is nested deeper than a batch of MAX_EVENT_DEPTH-deep events
 * can be (checked on the text, so a body of a million `[` is never built; the exact check on
 * `data` is PublishService's).
 */
@Injectable()
export class JsonBodyPipe implements PipeTransform<IncomingMessage, Promise<unknown>> {
  private readonly limit: number;
  private readonly maxDepth: number;

  constructor(config: HeraldConfig) {
    this.limit = maxPublishBodyBytes(config);
    // {"events":[{"data": ...}]} puts three levels around the data; the slack leaves a body
    // just over the limit to PublishService, whose message names the event.
    this.maxDepth = config.MAX_EVENT_DEPTH + 16;
  }

  async transform(req: IncomingMessage): Promise<unknown> {
    const type = req.headers['content-type'];
    if (type === undefined || !JSON_TYPE.test(type.trim())) {
      this.closeAfterResponse(req);
      throw new UnsupportedMediaTypeException('Content-Type must be application/json');
    }
    const text = await this.read(req);
    if (text.trim().length === 0) throw new BadRequestException('body is empty');
    if (jsonTextDepth(text, this.maxDepth) > this.maxDepth) {
      throw new BadRequestException(
        `body is nested more than ${this.maxDepth} levels deep ("data" may nest at most ${this.maxDepth - 16} levels, MAX_EVENT_DEPTH)`,
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new BadRequestException(`body is not valid JSON: ${(err as Error).message}`);
    }
  }

  private read(req: IncomingMessage): Promise<string> {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.limit) {
      this.closeAfterResponse(req);
      return Promise.reject(this.tooLarge());
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const cleanup = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('aborted', onAborted);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.limit) {
          cleanup();
          chunks.length = 0;
          req.pause();
          this.closeAfterResponse(req);
          reject(this.tooLarge());
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve(Buffer.concat(chunks, size).toString('utf8'));
      };
      const onError = (err: Error) => {
        cleanup();
        reject(new BadRequestException(`could not read body: ${err.message}`));
      };
      const onAborted = () => onError(new Error('request aborted'));
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('aborted', onAborted);
    });
  }

  private tooLarge(): PayloadTooLargeException {
    return new PayloadTooLargeException(`body larger than ${this.limit} bytes`);
  }

  /** Unread body bytes would otherwise be drained from a keep-alive socket. */
  private closeAfterResponse(req: IncomingMessage): void {
    const res = (req as IncomingMessage & { res?: { setHeader(k: string, v: string): void } }).res;
    res?.setHeader('Connection', 'close');
  }
}

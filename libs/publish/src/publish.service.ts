import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  Broker,
  type IdempotencyKey,
  type IdempotencyScope,
  type PublishRequest,
} from '@herald/broker';
import { TopicSyntaxError, parseTopicFilter } from '@herald/topics';
import { DEFAULT_MAX_EVENT_DEPTH, jsonDepth } from './json-depth';
import { PublishError, PublishErrorCode } from './publish.errors';
import { PUBLISH_MODULE_OPTIONS } from './publish.module-definition';
import { PublishObserver } from './publish.observer';
import type { PublishModuleOptions } from './publish.options';
import { serializeRedacted } from './redaction';

/** Who publishes, and how to deduplicate. */
export interface PublishContext {
  /**
   * Whose key space the idempotency key lives in (the token `sub`, the client IP of a publisher
   * without one, the ingest stream...); default `{ namespace: 'service', owner: '' }`.
   */
  readonly scope?: IdempotencyScope;
  /** Idempotency-Key header value (<= 128 printable ASCII characters). */
  readonly idempotencyKey?: string;
  /** Incoming W3C trace context (the caller's span), carried in the events. */
  readonly traceparent?: string;
  /**
   * Called with the validated events' topics before anything is published; throw to refuse
   * (e.g. a publisher without a grant for one of them): then nothing is published.
   */
  readonly authorize?: (topics: readonly string[]) => void | Promise<void>;
  /**
   * Called with the number of validated, authorized events just before they are published;
   * throw to refuse (e.g. a rate limit counting events): then nothing is published.
   */
  readonly admit?: (events: number) => void | Promise<void>;
}

/** Result of {@link PublishService.publish}; `batch` tells `{id}` from `{ids}`. */
export interface PublishOutcome {
  readonly ids: readonly string[];
  readonly batch: boolean;
  readonly duplicate: boolean;
}

const TYPE = /^[A-Za-z0-9_.:-]{1,64}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;
const EVENT_KEYS = new Set(['topic', 'type', 'data']);

/**
 * Validates, redacts and publishes events (CONTRACT section 2). Shared by `POST /events` and the
 * Redis ingest stream so both apply the same rules.
 */
@Injectable()
export class PublishService {
  private readonly redactKeys: ReadonlySet<string>;
  private readonly maxBatch: number;
  private readonly maxDepth: number;

  constructor(
    private readonly broker: Broker,
    @Inject(PUBLISH_MODULE_OPTIONS) private readonly options: PublishModuleOptions,
    private readonly observer: PublishObserver,
  ) {
    this.redactKeys = new Set(options.redactKeys.map((k) => k.toLowerCase()));
    this.maxBatch = options.maxBatchSize ?? 100;
    this.maxDepth = options.maxEventDepth ?? DEFAULT_MAX_EVENT_DEPTH;
  }

  /**
   * Validates a parsed JSON body (`{topic,type?,data}` or `{events:[...]}`) and publishes it,
   * all or nothing.
   * @throws PublishError when the body is refused; BrokerError when the broker fails.
   */
  async publish(body: unknown, context: PublishContext = {}): Promise<PublishOutcome> {
    const observation = this.observer.begin(context);
    try {
      const { events, batch } = this.validate(body);
      const key = this.scopedKey(context);
      await context.authorize?.(events.map((e) => e.topic));
      await context.admit?.(events.length);
      const result = await this.broker.publish(events, {
        idempotencyKey: key,
        fingerprint: key === undefined ? undefined : fingerprint(events),
        traceparent: observation?.traceparent ?? context.traceparent,
      });
      observation?.succeeded(events.length, result);
      return { ids: result.ids, batch, duplicate: result.duplicate };
    } catch (err) {
      observation?.failed(err);
      throw err;
    }
  }

  /**
   * Checks and serializes a body without publishing.
   * @throws PublishError naming the first problem (with the event index in a batch).
   */
  validate(body: unknown): { events: PublishRequest[]; batch: boolean } {
    if (!isPlainObject(body)) {
      throw invalid('body must be a JSON object: {"topic","type","data"} or {"events":[...]}');
    }
    if ('events' in body) {
      const extra = Object.keys(body).filter((k) => k !== 'events');
      if (extra.length > 0) throw invalid(`unexpected field "${extra[0]}" next to "events"`);
      const list = body.events;
      if (!Array.isArray(list) || list.length === 0 || list.length > this.maxBatch) {
        throw invalid(`"events" must be an array of 1..${this.maxBatch} events`);
      }
      return { events: list.map((e, i) => this.event(e, `events[${i}]`)), batch: true };
    }
    return { events: [this.event(body, 'body')], batch: false };
  }

  private event(input: unknown, where: string): PublishRequest {
    if (!isPlainObject(input)) throw invalid(`${where} must be an object`);
    for (const key of Object.keys(input)) {
      if (!EVENT_KEYS.has(key)) throw invalid(`${where}: unexpected field "${key}"`);
    }
    const { topic, type = 'message', data } = input;
    if (typeof topic !== 'string') {
      throw new PublishError(PublishErrorCode.InvalidTopic, `${where}: "topic" must be a string`);
    }
    try {
      parseTopicFilter(topic, false);
    } catch (err) {
      if (err instanceof TopicSyntaxError) {
        throw new PublishError(PublishErrorCode.InvalidTopic, `${where}: ${err.message}`);
      }
      throw err;
    }
    if (typeof type !== 'string' || !TYPE.test(type)) {
      throw new PublishError(
        PublishErrorCode.InvalidType,
        `${where}: "type" must match ^[A-Za-z0-9_.:-]{1,64}$`,
      );
    }
    if (type.toLowerCase().startsWith('herald.')) {
      throw new PublishError(
        PublishErrorCode.ReservedType,
        `${where}: event types starting with "herald." are reserved for the gateway`,
      );
    }
    if (!('data' in input)) {
      throw invalid(`${where}: "data" is required (any JSON value; use null for none)`);
    }
    // Checked before serializing: JSON.stringify recurses, and overflows the stack near 4,000.
    if (jsonDepth(data, this.maxDepth) > this.maxDepth) {
      throw new PublishError(
        PublishErrorCode.TooDeep,
        `${where}: "data" is nested more than ${this.maxDepth} levels deep (MAX_EVENT_DEPTH)`,
      );
    }
    const serialized = serializeRedacted(data, this.redactKeys);
    const size = Buffer.byteLength(serialized, 'utf8');
    if (size > this.options.maxEventBytes) {
      throw new PublishError(
        PublishErrorCode.TooLarge,
        `${where}: "data" is ${size} bytes serialized (at most ${this.options.maxEventBytes})`,
      );
    }
    return { topic, type, data: serialized };
  }

  private scopedKey(context: PublishContext): IdempotencyKey | undefined {
    const key = context.idempotencyKey;
    if (key === undefined) return undefined;
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw new PublishError(
        PublishErrorCode.InvalidIdempotencyKey,
        'Idempotency-Key must be 1..128 printable ASCII characters',
      );
    }
    return { scope: context.scope ?? { namespace: 'service', owner: '' }, key };
  }
}

function invalid(message: string): PublishError {
  return new PublishError(PublishErrorCode.InvalidBody, message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fingerprint(events: readonly PublishRequest[]): string {
  const hash = createHash('sha256');
  for (const e of events) hash.update(`${e.topic}\u0000${e.type}\u0000${e.data}\u0001`);
  return hash.digest('base64url');
}

import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Broker, type IdempotencyKey } from '@herald/broker';
import { ipKey } from '@herald/limits';
import { PublishObserver, serializeRedacted } from '@herald/publish';
import {
  ClientAddress,
  HeraldStream,
  type DialectOpening,
  type StreamSource,
} from '@herald/streams';
import { readFormBody } from './mercure.body';
import { MercureError, badRequest } from './mercure.errors';
import { CURSOR_ID_PREFIX, MercureHub, type MercureReader } from './mercure.hub';
import { MercureIdStore } from './mercure.id-store';
import { MERCURE_MODULE_OPTIONS } from './mercure.module-definition';
import type { MercureModuleOptions } from './mercure.options';
import { MercurePublishRate } from './mercure.publish-rate';
import {
  EARLIEST,
  MAX_SELECTOR_LENGTH,
  hasControl,
  mercureToken,
  parseSubscribe,
  type MercureSubscribeRequest,
} from './mercure.request';
import { MercureSubscriptions } from './mercure.subscriptions';
import { anyMatches, MercureTokens, type MercureGrants } from './mercure.tokens';
import type { MercureUpdate } from './mercure.update';

/** The id a stream that had no cursor presents back after a shed (see `NO_CURSOR`). */
const NO_CURSOR = 'herald.none';
const MAX_ID_LENGTH = 1024;
const MAX_TYPE_LENGTH = 256;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

/**
 * The Mercure protocol on Herald: subscribe requests become Herald streams (one pipeline, this
 * dialect), publish requests become updates on the hub's internal topic.
 */
@Injectable()
export class MercureService {
  private readonly logger = new Logger('Mercure');
  private readonly redactKeys: ReadonlySet<string>;

  constructor(
    @Inject(MERCURE_MODULE_OPTIONS) private readonly options: MercureModuleOptions,
    private readonly hub: MercureHub,
    private readonly tokens: MercureTokens,
    private readonly ids: MercureIdStore,
    private readonly broker: Broker,
    private readonly subscriptions: MercureSubscriptions,
    @Optional() private readonly rate?: MercurePublishRate,
    @Optional() private readonly address?: ClientAddress,
    @Optional() private readonly observer?: PublishObserver,
  ) {
    this.redactKeys = new Set(options.redactKeys.map((k) => k.toLowerCase()));
  }

  /** The Herald stream of one `GET /.well-known/mercure` (run by the stream pipeline). */
  stream(): HeraldStream {
    let reader: MercureReader | undefined;
    let request: MercureSubscribeRequest | undefined;
    let grants: MercureGrants | undefined;
    const source: StreamSource = {
      topics: [],
      dialect: {
        open: async (req) => {
          const opened = await this.open(req);
          ({ reader, request, grants } = opened);
          return opened.opening;
        },
      },
      attach: (_filters, cursor, sink) => {
        if (reader === undefined || request === undefined) {
          throw new Error('a Mercure stream attached before it was opened');
        }
        const attachment = this.hub.attach(reader, cursor, sink);
        const tracked = this.subscriptions.track(request, grants);
        return {
          unsubscribe: () => {
            attachment.unsubscribe();
            tracked.end();
          },
          resume: () => attachment.resume?.(),
        };
      },
    };
    return new HeraldStream(source, (subscriber) => {
      subscriber.error(new Error('a Mercure stream runs only under its @StreamRoute'));
    });
  }

  private async open(req: IncomingMessage): Promise<{
    opening: DialectOpening;
    reader: MercureReader;
    request: MercureSubscribeRequest;
    grants: MercureGrants | undefined;
  }> {
    const { options } = this;
    const request = parseSubscribe(req, options.protocol, options.maxSelectors);
    const token = mercureToken(req, request.dialect === 'legacy');
    let grants: MercureGrants | undefined;
    if (token !== undefined) grants = await this.tokens.verify(token, 'subscriber');
    else if (!options.anonymous) {
      throw new MercureError(401, 'a Mercure access token is required (MERCURE_ANONYMOUS=false)');
    }
    const subscribe = grants?.subscribe ?? [];
    const reader: MercureReader = {
      selectors: request.selectors.map((s) => s.selector),
      canReadPrivate: (topics) =>
        subscribe.length > 0 && topics.some((t) => anyMatches(subscribe, t)),
    };
    const resume = await this.resumeOf(request.lastEventId);
    const opening: DialectOpening = {
      principal: {
        sub: grants?.sub,
        expiresAt: grants?.expiresAt,
        issuedAt: grants?.issuedAt,
      },
      cursor: resume.cursor,
      clientId: resume.clientId,
      topics: request.selectors.map((s) => s.selector.raw),
      headers:
        resume.header === undefined
          ? undefined
          : { 'Last-Event-ID': resume.header, 'Mercure-Last-Event-ID': resume.header },
    };
    return { opening, reader, request, grants };
  }

  /**
   * Where a stream resumes: after the update with the client's id (publisher-supplied ids too),
   * every retained update for `earliest`, live for none or an unknown id (answered `earliest` in
   * the response header, as the spec says for an id the hub does not know).
   */
  private async resumeOf(
    lastEventId: string | undefined,
  ): Promise<{ cursor: string | undefined; clientId: string; header: string | undefined }> {
    const broker = this.broker;
    const live = () => `${CURSOR_ID_PREFIX}${broker.nowCursor()}`;
    if (lastEventId === undefined || lastEventId === NO_CURSOR) {
      return { cursor: undefined, clientId: live(), header: undefined };
    }
    try {
      if (lastEventId === EARLIEST) {
        const earliest = await this.ids.earliest();
        const origin = originCursor(broker.nowCursor());
        const cursor = earliest.fromOrigin ? (origin ?? earliest.cursor) : earliest.cursor;
        if (cursor === undefined) return { cursor: undefined, clientId: live(), header: EARLIEST };
        return { cursor, clientId: `${CURSOR_ID_PREFIX}${cursor}`, header: EARLIEST };
      }
      const known = await this.ids.cursorOf(lastEventId);
      if (known !== undefined) return { cursor: known, clientId: lastEventId, header: lastEventId };
    } catch (err) {
      this.logger.warn(`Mercure id store unavailable, resuming live: ${String(err)}`);
      return { cursor: undefined, clientId: live(), header: EARLIEST };
    }
    if (lastEventId.startsWith(CURSOR_ID_PREFIX)) {
      const cursor = lastEventId.slice(CURSOR_ID_PREFIX.length);
      if (broker.isWellFormedCursor(cursor)) {
        return { cursor, clientId: lastEventId, header: lastEventId };
      }
    }
    return { cursor: undefined, clientId: live(), header: EARLIEST };
  }

  /**
   * `POST /.well-known/mercure`: validates, authorizes and stores one update; resolves with its
   * id once the broker holds it.
   * @throws MercureError (400/401/403/413/415), the rate limit's 429, BrokerError (503).
   */
  async publish(req: IncomingMessage, res: ServerResponse): Promise<string> {
    const { options } = this;
    const token = mercureToken(req, options.protocol !== 'v1');
    if (token === undefined) throw new MercureError(401, 'a Mercure publisher token is required');
    const grants = await this.tokens.verify(token, 'publisher');
    const form = await readFormBody(req, options.maxEventBytes + 16 * 1024);
    const update = this.updateOf(form, grants, req);
    for (const topic of update.topics) {
      if (!anyMatches(grants.publish, topic)) {
        throw new MercureError(
          403,
          `the token may not publish to "${printable(topic)}"`,
          'insufficient_scope',
        );
      }
    }
    await this.rate?.charge(req, res, grants.sub, 1);
    const key = this.idempotencyKey(req, grants);
    // Counted and traced like `POST /events` (herald_events_published_total, the publish span).
    const observation = this.observer?.begin({ scope: key?.scope, idempotencyKey: key?.key });
    try {
      const published = await this.hub.publish(update.update, {
        idempotencyKey: key,
        fingerprint: key === undefined ? undefined : fingerprint(update.fingerprint),
        traceparent: observation?.traceparent,
      });
      observation?.succeeded(1, { ids: [published.cursor], duplicate: published.duplicate });
      return published.id;
    } catch (err) {
      observation?.failed(err);
      throw err;
    }
  }

  private updateOf(
    form: URLSearchParams,
    grants: MercureGrants,
    req: IncomingMessage,
  ): { update: MercureUpdate; topics: readonly string[]; fingerprint: string } {
    const topics = form.getAll('topic');
    if (topics.length === 0) throw badRequest('the "topic" field is required');
    if (topics.length > 1 && this.options.protocol === 'v1') {
      throw badRequest('exactly one "topic" field is allowed (MERCURE_PROTOCOL=v1)');
    }
    if (topics.length > this.options.maxSelectors) {
      throw badRequest(`too many "topic" fields (at most ${this.options.maxSelectors})`);
    }
    for (const topic of topics) {
      if (topic.length === 0) throw badRequest('"topic" must not be empty');
      if (topic.length > MAX_SELECTOR_LENGTH) {
        throw new MercureError(413, `"topic" is longer than ${MAX_SELECTOR_LENGTH} characters`);
      }
      if (hasControl(topic)) throw badRequest('"topic" must not contain control characters');
      if (isReservedTopic(topic)) {
        throw badRequest(`"${printable(topic)}" is reserved for the hub (/.well-known/mercure)`);
      }
    }
    let data = form.get('data') ?? '';
    if (Buffer.byteLength(data, 'utf8') > this.options.maxEventBytes) {
      throw new MercureError(413, `"data" is larger than ${this.options.maxEventBytes} bytes`);
    }
    data = this.redact(data);
    const given = form.get('id');
    if (given !== null) {
      if (given === '') throw badRequest('"id" must not be empty');
      if (given.startsWith('#')) throw badRequest('"id" must not start with "#"');
      if (/[\n\r\0]/.test(given)) throw badRequest('"id" must not contain CR, LF or NUL');
      if (given.length > MAX_ID_LENGTH) {
        throw new MercureError(413, `"id" is longer than ${MAX_ID_LENGTH} characters`);
      }
      if (given === EARLIEST || given === NO_CURSOR || given.startsWith(CURSOR_ID_PREFIX)) {
        throw badRequest(`"id" "${printable(given)}" is reserved`);
      }
    }
    const type = form.get('type') ?? undefined;
    if (type !== undefined) {
      if (/[\n\r]/.test(type)) throw badRequest('"type" must not contain CR or LF');
      if (type.length > MAX_TYPE_LENGTH)
        throw badRequest(`"type" is longer than ${MAX_TYPE_LENGTH}`);
      if (type.toLowerCase().startsWith('herald.')) {
        throw badRequest('event types starting with "herald." are reserved for the gateway');
      }
    }
    const retryText = form.get('retry') ?? undefined;
    if (retryText !== undefined && !/^[0-9]{1,10}$/.test(retryText)) {
      throw badRequest('"retry" must be ASCII digits (milliseconds)');
    }
    const isPrivate = form.has('private');
    const base = {
      topics,
      data,
      private: isPrivate,
      ...(type !== undefined && type !== '' ? { type } : {}),
      ...(retryText !== undefined ? { retry: Number(retryText) } : {}),
    };
    const fingerprintText = JSON.stringify([topics, data, isPrivate, given, type, retryText]);
    const idempotency = req.headers['idempotency-key'];
    const keyed = typeof idempotency === 'string' ? idempotency : undefined;
    // Without a publisher id, a retried Idempotency-Key gets the same generated id back.
    const id =
      given ??
      (keyed !== undefined && IDEMPOTENCY_KEY.test(keyed)
        ? uuidFrom(`${grants.sub ?? ''}\u0000${keyed}`)
        : `urn:uuid:${randomUUID()}`);
    return { update: { ...base, id }, topics, fingerprint: fingerprintText };
  }

  /** JSON `data` with REDACT_KEYS replaced; any other text exactly as sent. */
  private redact(data: string): string {
    if (this.redactKeys.size === 0) return data;
    const head = data.trimStart()[0];
    if (head !== '{' && head !== '[') return data;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return data;
    }
    const redacted = serializeRedacted(parsed, this.redactKeys);
    return redacted === JSON.stringify(parsed) ? data : redacted;
  }

  private idempotencyKey(req: IncomingMessage, grants: MercureGrants): IdempotencyKey | undefined {
    const raw = req.headers['idempotency-key'];
    if (raw === undefined) return undefined;
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw badRequest('Idempotency-Key must be 1..128 printable ASCII characters');
    }
    const sub = grants.sub;
    return sub !== undefined
      ? { scope: { namespace: 'sub', owner: sub }, key }
      : { scope: { namespace: 'ip', owner: ipKey(this.address?.ipOf(req) ?? '') }, key };
  }
}

/** A topic in the hub's reserved namespace (its path is `/.well-known/mercure[/...]`). */
export function isReservedTopic(topic: string): boolean {
  let path: string;
  try {
    path = new URL(topic, 'http://hub.invalid/').pathname;
  } catch {
    path = topic;
  }
  return path === '/.well-known/mercure' || path.startsWith('/.well-known/mercure/');
}

/**
 * The cursor before every event of the broker's current key space (`m.<epoch>.0`,
 * `r.<epoch>.0.0`), derived from one of its cursors; undefined for another format.
 */
export function originCursor(now: string): string | undefined {
  const memory = /^(m\.[^.]+)\.\d+$/.exec(now);
  if (memory) return `${memory[1]}.0`;
  const redis = /^(r\.[^.]+)\.\d+\.\d+$/.exec(now);
  if (redis) return `${redis[1]}.0.0`;
  return undefined;
}

function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

function printable(value: string): string {
  const shown = value.length > 64 ? `${value.slice(0, 64)}...` : value;
  // eslint-disable-next-line no-control-regex
  return shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

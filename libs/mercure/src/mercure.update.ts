import type { BrokerEvent } from '@herald/broker';
import type { HeraldEvent } from '@herald/streams';
import { withFrame } from '@herald/streams';

/**
 * The one internal Herald topic every Mercure update is published to, so the hub-wide sequence
 * is the broker's order on it. `$` is not a topic character: no `GET /events` client can name it,
 * and no Herald wildcard matches it.
 */
export const MERCURE_TOPIC = '$mercure';

/** The event type of Mercure updates on {@link MERCURE_TOPIC}. */
export const MERCURE_EVENT_TYPE = 'mercure.update';

/** A Mercure update as published and stored. */
export interface MercureUpdate {
  /** Canonical topic first, then alternates. */
  readonly topics: readonly string[];
  readonly data: string;
  readonly private: boolean;
  /** The SSE id: the publisher's, or hub-generated (`urn:uuid:...`). */
  readonly id: string;
  /** SSE `event:` (absent: `message`). */
  readonly type?: string;
  /** SSE `retry:` in ms. */
  readonly retry?: number;
}

interface StoredUpdate {
  t: string[];
  d: string;
  p?: 1;
  i: string;
  y?: string;
  r?: number;
}

/** Serializes an update as the broker event's `data` (JSON text). */
export function encodeUpdate(update: MercureUpdate): string {
  const stored: StoredUpdate = { t: [...update.topics], d: update.data, i: update.id };
  if (update.private) stored.p = 1;
  if (update.type !== undefined) stored.y = update.type;
  if (update.retry !== undefined) stored.r = update.retry;
  return JSON.stringify(stored);
}

/** The update of a broker event, or `undefined` when it is not one. */
export function decodeUpdate(data: string): MercureUpdate | undefined {
  let stored: Partial<StoredUpdate>;
  try {
    stored = JSON.parse(data) as Partial<StoredUpdate>;
  } catch {
    return undefined;
  }
  if (
    typeof stored !== 'object' ||
    stored === null ||
    !Array.isArray(stored.t) ||
    stored.t.length === 0 ||
    typeof stored.d !== 'string' ||
    typeof stored.i !== 'string'
  ) {
    return undefined;
  }
  return {
    topics: stored.t,
    data: stored.d,
    private: stored.p === 1,
    id: stored.i,
    type: typeof stored.y === 'string' ? stored.y : undefined,
    retry: typeof stored.r === 'number' ? stored.r : undefined,
  };
}

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * The SSE frame of an update: `id:`, `event:` when typed, `retry:` when given, then one `data:`
 * line per line of the data (blank and indented lines kept exactly), then a blank line.
 */
export function frameUpdate(update: MercureUpdate): Buffer {
  return Buffer.from(frameUpdateText(update), 'utf8');
}

/** The text of {@link frameUpdate}'s frame. */
function frameUpdateText(update: MercureUpdate): string {
  let out = `id: ${update.id}\n`;
  if (update.type !== undefined && update.type !== '') out += `event: ${update.type}\n`;
  if (update.retry !== undefined) out += `retry: ${update.retry}\n`;
  for (const line of update.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A decoded update with the Herald event a Mercure stream delivers for it (framed once). */
export interface MercureDelivery {
  readonly update: MercureUpdate;
  /** Broker cursor of the update. */
  readonly cursor: string;
  readonly event: HeraldEvent;
}

const deliveries = new WeakMap<BrokerEvent, MercureDelivery | null>();

/**
 * The delivery of a broker event on {@link MERCURE_TOPIC}, decoded and framed once per event
 * object (every local subscriber receives the same broker object, so the same frame bytes).
 */
export function deliveryOf(event: BrokerEvent): MercureDelivery | undefined {
  let delivery = deliveries.get(event);
  if (delivery === undefined) {
    const update = decodeUpdate(event.data);
    delivery =
      update === undefined
        ? null
        : {
            update,
            cursor: event.id,
            event: withFrame(
              {
                kind: 'event',
                id: update.id,
                topic: event.topic,
                type: update.type ?? 'message',
                data: update.data,
                publishedAt: event.publishedAt,
                ...(event.traceparent !== undefined ? { traceparent: event.traceparent } : {}),
              },
              // As text: encoded once, straight into the frame's shared HTTP chunk.
              frameUpdateText(update),
            ),
          };
    deliveries.set(event, delivery);
  }
  return delivery ?? undefined;
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What every log line written while serving a request carries. */
export interface RequestContext {
  readonly requestId: string;
}

/** The request context of the current async call chain (set by the gateway's request logger). */
export const requestContext = new AsyncLocalStorage<RequestContext>();

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The incoming `X-Request-Id` when it is sane (1..128 of `[A-Za-z0-9._:-]`), else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE_REQUEST_ID.test(value) ? value : flatUuid();
}

/**
 * A new UUID as one flat string: `randomUUID()` returns a tree of concatenated pieces (about 16
 * heap objects), which a long-lived stream's request id would keep for the stream's life.
 */
function flatUuid(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

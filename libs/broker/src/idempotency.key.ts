/**
 * Who owns an idempotency key. Keys are only ever compared inside one scope, so two publishers
 * can never claim each other's keys, whatever characters their names or keys contain.
 * - `sub`: an HTTP publisher, by its token `sub`;
 * - `ip`: an HTTP publisher whose token has no `sub`, by its client IP (IPv6 by /64);
 * - `ingest`: an ingest stream entry's own `idempotencyKey`, by stream;
 * - `ingest-entry`: an ingest entry without one, keyed by its entry id, by stream;
 * - `service`: an in-process publisher (a Nest app calling `PublishService`), by its name.
 */
export type IdempotencyNamespace = 'sub' | 'ip' | 'ingest' | 'ingest-entry' | 'service';

/** The key space of an idempotency key: a namespace and an owner inside it. */
export interface IdempotencyScope {
  readonly namespace: IdempotencyNamespace;
  /** The sub, IP key, stream name or service name (any characters, may be empty). */
  readonly owner: string;
}

/** An idempotency key in its scope. */
export interface IdempotencyKey {
  readonly scope: IdempotencyScope;
  /** The publisher's key (e.g. the Idempotency-Key header). */
  readonly key: string;
}

/**
 * The one string naming a key in its scope, used by every adapter:
 * `<namespace>:<owner length>:<owner>:<key>`. The namespace has no `:` and the owner is
 * length-prefixed, so two different (scope, key) pairs never give the same string.
 */
export function idempotencyRecordName(id: IdempotencyKey): string {
  const { namespace, owner } = id.scope;
  return `${namespace}:${owner.length}:${owner}:${id.key}`;
}

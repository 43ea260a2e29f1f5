/** Error codes the gateway maps to HTTP statuses. */
export enum BrokerErrorCode {
  Unavailable = 'broker-unavailable',
  IdempotencyConflict = 'idempotency-conflict',
  /** Too many live idempotency keys to remember one more (a new keyed publish is refused). */
  IdempotencyCapacity = 'idempotency-capacity',
  MalformedCursor = 'malformed-cursor',
}

/** A broker failure with a stable code. */
export class BrokerError extends Error {
  /** When retrying may succeed, in ms from now (set for `idempotency-capacity`). */
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.name = 'BrokerError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

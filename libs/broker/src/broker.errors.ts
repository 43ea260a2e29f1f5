/** Error codes the gateway maps to HTTP statuses. */
export enum BrokerErrorCode {
  Unavailable = 'broker-unavailable',
  IdempotencyConflict = 'idempotency-conflict',
  MalformedCursor = 'malformed-cursor',
}

/** A broker failure with a stable code. */
export class BrokerError extends Error {
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrokerError';
  }
}

/** Why a publish was refused (the gateway maps each code to a status). */
export enum PublishErrorCode {
  InvalidBody = 'invalid-body',
  InvalidTopic = 'invalid-topic',
  InvalidType = 'invalid-type',
  ReservedType = 'reserved-type',
  TooLarge = 'too-large',
  /** `data` nested deeper than MAX_EVENT_DEPTH. */
  TooDeep = 'too-deep',
  InvalidIdempotencyKey = 'invalid-idempotency-key',
}

/** A refused publish; nothing was published. */
export class PublishError extends Error {
  constructor(
    readonly code: PublishErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

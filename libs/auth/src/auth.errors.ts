/** Why a request was refused by authentication or authorization (mapped to HTTP by `@herald/http`). */
export enum AuthErrorCode {
  /** No token, and the request is not covered by ANONYMOUS_TOPICS (401). */
  MissingToken = 'missing-token',
  /** Bad signature, algorithm, header, claims, or expired (401). */
  InvalidToken = 'invalid-token',
  /** Valid token, but a topic is outside its grants (403). */
  TopicNotPermitted = 'topic-not-permitted',
  /** Valid token without `admin: true` (403). */
  NotAdmin = 'not-admin',
  /** The subject was revoked after the token was issued (403, or 204 for an event stream). */
  Revoked = 'revoked',
  /** The request's Origin is not in CORS_ORIGINS (403). */
  OriginNotAllowed = 'origin-not-allowed',
  /** The revocation store could not answer: a transient refusal (503, or a shed for a stream). */
  RevocationUnavailable = 'revocation-unavailable',
}

/** An auth refusal; its message never contains the token. */
export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/**
 * The revocation store could not answer. Herald fails closed: nothing opens or publishes
 * unchecked. It is a transient refusal: `503` with `Retry-After`, or `200` + `herald.shed` to an
 * event-stream client (a non-200 would stop a browser EventSource for good).
 */
export class RevocationUnavailableError extends AuthError {
  constructor(message = 'revocation store unavailable; retry later') {
    super(AuthErrorCode.RevocationUnavailable, message);
    this.name = 'RevocationUnavailableError';
  }
}

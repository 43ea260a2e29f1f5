import { ServiceUnavailableException } from '@nestjs/common';

/** Why a request was refused by authentication or authorization. */
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

  /** HTTP status of the refusal (401 or 403). */
  get status(): 401 | 403 {
    switch (this.code) {
      case AuthErrorCode.MissingToken:
      case AuthErrorCode.InvalidToken:
        return 401;
      case AuthErrorCode.TopicNotPermitted:
      case AuthErrorCode.NotAdmin:
      case AuthErrorCode.Revoked:
      case AuthErrorCode.OriginNotAllowed:
        return 403;
    }
  }

  /** The `WWW-Authenticate` challenge of a 401 (RFC 6750), or undefined. */
  get challenge(): string | undefined {
    switch (this.code) {
      case AuthErrorCode.MissingToken:
        return 'Bearer realm="herald"';
      case AuthErrorCode.InvalidToken:
        return 'Bearer realm="herald", error="invalid_token"';
      case AuthErrorCode.TopicNotPermitted:
      case AuthErrorCode.NotAdmin:
      case AuthErrorCode.Revoked:
      case AuthErrorCode.OriginNotAllowed:
        return undefined;
    }
  }
}

/**
 * The revocation store could not answer. Herald fails closed: nothing opens or publishes
 * unchecked. It is a transient refusal: `503` with `Retry-After`, or `200` + `herald.shed` to an
 * event-stream client (a non-200 would stop a browser EventSource for good). A 503 HTTP
 * exception, so an app embedding Herald's guards without Herald's filter still answers 503.
 */
export class RevocationUnavailableError extends ServiceUnavailableException {
  constructor(message = 'revocation store unavailable; retry later') {
    super(message);
    this.name = 'RevocationUnavailableError';
  }
}

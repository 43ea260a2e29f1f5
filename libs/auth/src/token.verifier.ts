import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTClaimVerificationOptions,
  type JWTPayload,
} from 'jose';
import { parsePublicKeyPem } from '@herald/config';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition';
import type { AuthModuleOptions } from './auth.options';
import { HmacJwsError, isHmacJws, verifyHmacJws } from './hmac.jws';
import { VerifiedTokenCache } from './verified.token.cache';

/** Header parameters that would let a token pick its own key: refused outright, never fetched. */
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256'] as const;
const MAX_CLOCK_TOLERANCE_S = 60;
/**
 * Verified tokens remembered (exact token string -> claims): a reconnect storm of clients that
 * share a token verifies it once, not once per client.
 */
const VERIFIED_TOKENS_CACHED = 1024;

/** Why a token was refused; safe to show (never contains the token). */
export class TokenRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenRejectedError';
  }
}

/**
 * Verifies compact JWS tokens with `jose` against the configured key, accepting only the
 * configured algorithms. `exp` is required; `nbf`, `iss` and `aud` are checked.
 *
 * HS256/384/512 with a shared secret are verified synchronously: the MAC with `node:crypto`
 * (`createHmac`, constant-time compare against the canonical base64url signature), then the
 * claims with jose's own claim checks (`UnsecuredJWT.decode` of the verified payload, same
 * options as `jwtVerify`). jose's WebCrypto path costs about 10x the CPU per token (an async
 * job per verification), which bounded the connection rate; asymmetric keys keep `jwtVerify`.
 * Headers with `crit` or `b64` are refused on that path (jose would accept only `b64`).
 */
@Injectable()
export class TokenVerifier {
  /** The verification key (for an ephemeral key, also the dev signing key). */
  readonly key: KeyObject;
  private readonly algorithms: string[];
  private readonly clockTolerance: number;
  private readonly maxLength: number;
  private readonly verified: VerifiedTokenCache;

  constructor(@Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions) {
    this.key = verificationKey(options);
    this.algorithms =
      options.key.driver === 'ephemeral' ? ['HS256'] : [...options.algorithms].filter(Boolean);
    this.clockTolerance = Math.min(
      MAX_CLOCK_TOLERANCE_S,
      Math.max(0, options.clockToleranceS ?? MAX_CLOCK_TOLERANCE_S),
    );
    this.maxLength = options.maxTokenLength ?? 8192;
    this.verified = new VerifiedTokenCache(VERIFIED_TOKENS_CACHED, this.clockTolerance);
  }

  /**
   * Verifies `token` and returns its claims, frozen (shared with every later verification of the
   * same token: see {@link verifyNow}).
   * @throws TokenRejectedError with a short, token-free reason.
   */
  async verify(token: string): Promise<JWTPayload> {
    return this.verifyNow(token);
  }

  /**
   * As {@link verify}, but an HMAC token's claims come back synchronously (no promise, no
   * microtask): only asymmetric keys return a promise (jose's `jwtVerify`). For callers on the
   * connect path, where every promise per request counts. A token verified before (the exact
   * string, among the last {@link VERIFIED_TOKENS_CACHED}) is not verified again: only its `exp`
   * and `nbf` are checked against the clock, as jose checks them. The claims returned are frozen
   * and shared by every verification of the same token.
   * @throws TokenRejectedError (synchronously, or through the returned promise).
   */
  verifyNow(token: string): JWTPayload | Promise<JWTPayload> {
    if (token.length > this.maxLength) throw new TokenRejectedError('token too large');
    const cached = this.verified.get(token, Date.now());
    if (cached === 'expired') throw new TokenRejectedError('token expired');
    if (cached === 'not-yet-valid') throw new TokenRejectedError('token claim "nbf" check failed');
    if (cached !== undefined) return cached;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenRejectedError('malformed token');
    }
    if (typeof header.alg !== 'string' || !this.algorithms.includes(header.alg)) {
      throw new TokenRejectedError('token algorithm not accepted');
    }
    for (const name of KEY_HEADERS) {
      if (name in header) throw new TokenRejectedError(`token header "${name}" is not accepted`);
    }
    if (isHmacJws(this.key, header.alg)) return this.verifyHmac(token, header);
    return this.verifyAsymmetric(token);
  }

  private async verifyAsymmetric(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: this.algorithms,
        ...this.claimChecks(),
      });
      if (typeof payload.exp !== 'number') throw new TokenRejectedError('token "exp" is required');
      this.verified.set(token, payload);
      return payload;
    } catch (err) {
      throw new TokenRejectedError(reason(err));
    }
  }

  private claimChecks(): JWTClaimVerificationOptions {
    return {
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockTolerance: this.clockTolerance,
      requiredClaims: ['exp'],
    };
  }

  private verifyHmac(token: string, header: { readonly alg?: unknown }): JWTPayload {
    try {
      const payload = verifyHmacJws(token, header, this.key, this.claimChecks());
      if (typeof payload.exp !== 'number') throw new TokenRejectedError('token "exp" is required');
      this.verified.set(token, payload);
      return payload;
    } catch (err) {
      throw new TokenRejectedError(reason(err));
    }
  }
}

function verificationKey(options: AuthModuleOptions): KeyObject {
  const key = options.key;
  switch (key.driver) {
    case 'secret':
      return createSecretKey(Buffer.from(key.secret, 'utf8'));
    case 'public-key':
      return parsePublicKeyPem(key.publicKeyPem);
    case 'ephemeral':
      return createSecretKey(randomBytes(32));
  }
}

function reason(err: unknown): string {
  if (err instanceof TokenRejectedError || err instanceof HmacJwsError) return err.message;
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    return `token claim "${err.claim}" check failed`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  return 'invalid token';
}

import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { UnsecuredJWT, type JWTClaimVerificationOptions, type JWTPayload } from 'jose';

/** The HMAC algorithms verified synchronously with `node:crypto`, by JWS `alg`. */
const HMAC_HASHES: Readonly<Record<string, string>> = {
  HS256: 'sha256',
  HS384: 'sha384',
  HS512: 'sha512',
};

/** `{"alg":"none"}`: the header jose's claim checks run under once the HMAC is verified. */
const CHECKED_HEADER = Buffer.from('{"alg":"none"}', 'utf8').toString('base64url');

/** Why {@link verifyHmacJws} refused a token before its claims: its header, form or MAC. */
export class HmacJwsError extends Error {
  constructor(
    readonly reason: 'header' | 'malformed' | 'signature',
    message: string,
  ) {
    super(message);
    this.name = 'HmacJwsError';
  }
}

/**
 * True when `key` and `alg` take the synchronous path of {@link verifyHmacJws}: a shared secret
 * and HS256/384/512.
 */
export function isHmacJws(key: KeyObject, alg: unknown): alg is string {
  return key.type === 'secret' && typeof alg === 'string' && HMAC_HASHES[alg] !== undefined;
}

/**
 * Verifies an HMAC-signed compact JWS synchronously and returns its claims: the MAC with
 * `node:crypto` (constant-time compare against the canonical base64url signature), then the
 * claims with jose's own checks (`UnsecuredJWT.decode` of the verified payload, the same `exp`,
 * `nbf`, `iat`, `iss`, `aud` checks and tolerance as `jwtVerify` with `claims`). jose's WebCrypto
 * path is an async job per token (a thread-pool round trip); this is about a tenth of its CPU.
 * Headers with `crit` or `b64` are refused (jose would accept only `b64`). The caller has
 * checked `alg` against its allowed list and {@link isHmacJws}.
 * @throws HmacJwsError for the header, form or MAC; jose's own claim errors (`errors.JWTExpired`,
 *   `errors.JWTClaimValidationFailed`, ...) for the claims, as `jwtVerify` throws them.
 */
export function verifyHmacJws(
  token: string,
  header: { readonly alg?: unknown },
  key: KeyObject,
  claims: JWTClaimVerificationOptions,
): JWTPayload {
  if ('crit' in header || 'b64' in header) {
    throw new HmacJwsError('header', 'token header "crit"/"b64" is not accepted');
  }
  const hash = typeof header.alg === 'string' ? HMAC_HASHES[header.alg] : undefined;
  if (hash === undefined) throw new HmacJwsError('header', 'token algorithm not accepted');
  const first = token.indexOf('.');
  const last = token.lastIndexOf('.');
  if (first <= 0 || token.indexOf('.', first + 1) !== last) {
    throw new HmacJwsError('malformed', 'malformed token');
  }
  const expected = Buffer.from(
    createHmac(hash, key).update(token.slice(0, last)).digest('base64url'),
    'latin1',
  );
  const presented = Buffer.from(token.slice(last + 1), 'latin1');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new HmacJwsError('signature', 'token signature invalid');
  }
  return UnsecuredJWT.decode(`${CHECKED_HEADER}.${token.slice(first + 1, last)}.`, claims).payload;
}

import { createHmac, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';

/** The HS256 secret every test gateway starts with (TEST_ENV), random per test process. */
export const TEST_JWT_SECRET = randomBytes(32).toString('base64url');

/** base64url of a JSON value or of raw bytes. */
export function b64(value: unknown): string {
  return Buffer.isBuffer(value)
    ? value.toString('base64url')
    : Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Grants claim (`herald` by default) plus standard claims: `exp` one hour ahead unless given. */
export function claims(
  grants: { subscribe?: string[]; publish?: string[]; presence?: string[]; admin?: boolean },
  extra: JWTPayload = {},
  claim = 'herald',
): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { sub: 'tester', iat: now, exp: now + 3600, [claim]: grants, ...extra };
}

/** A compact HS* JWS signed synchronously (any header, any payload, including broken ones). */
export function hs256(
  payload: unknown,
  secret: string | Buffer | KeyObject = TEST_JWT_SECRET,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', ...header })}.${b64(payload)}`;
  const key = typeof secret === 'string' || Buffer.isBuffer(secret) ? secret : secret.export();
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

/** Signs with jose (RS256, ES256, EdDSA, HS256...), with optional extra header fields. */
export function signJwt(
  payload: JWTPayload,
  key: KeyObject | Uint8Array,
  alg: string,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ ...header, alg }).sign(key);
}

/** A token for the test secret allowed to publish and subscribe everywhere. */
export const PUBLISHER_TOKEN = hs256(
  claims({ subscribe: ['**'], publish: ['**'] }, { sub: 'test-publisher', exp: 4102444800 }),
);

/** `{ Authorization: 'Bearer <token>' }`. */
export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

import { createSecretKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { HmacJwsError, TokenVerifier, isHmacJws, verifyHmacJws } from '@herald/auth';
import { parsePublicKeyPem } from '@herald/config';
import { MercureError } from './mercure.errors';
import { MERCURE_MODULE_OPTIONS } from './mercure.module-definition';
import type { MercureKeyOptions, MercureModuleOptions } from './mercure.options';
import {
  MercureSelectorError,
  compileSelector,
  legacySelector,
  type MercureSelector,
} from './mercure.selector';

/** Which generation a token belongs to: 1.0 (`at+jwt`, `authorization_details`) or 0.x (`mercure`). */
export type MercureDialect = 'v1' | 'legacy';

/** The role a token is verified for (each has its own key). */
export type MercureRole = 'publisher' | 'subscriber';

/** What a verified Mercure token allows. */
export interface MercureGrants {
  readonly dialect: MercureDialect;
  readonly sub: string | undefined;
  /** `exp` in epoch ms (legacy tokens may have none). */
  readonly expiresAt: number | undefined;
  readonly issuedAt: number | undefined;
  readonly publish: readonly MercureSelector[];
  readonly subscribe: readonly MercureSelector[];
  /** Payloads of subscribe grants, first match wins (see {@link payloadFor}). */
  readonly payloads: readonly { readonly selector: MercureSelector; readonly payload: unknown }[];
}

/** Most `authorization_details` entries and topics per entry; more is an invalid token. */
const MAX_DETAILS = 64;
const MAX_SELECTORS = 256;
const MAX_TOKEN_LENGTH = 16 * 1024;
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256'] as const;
const CLOCK_TOLERANCE_S = 30;

/** True when `selectors` cover `topic`. */
export function anyMatches(selectors: readonly MercureSelector[], topic: string): boolean {
  for (const s of selectors) if (s.matches(topic)) return true;
  return false;
}

/** The payload of the first subscribe grant matching the subscription's own selector string. */
export function payloadFor(grants: MercureGrants | undefined, selector: string): unknown {
  if (grants === undefined) return undefined;
  for (const p of grants.payloads) if (p.selector.matches(selector)) return p.payload;
  return undefined;
}

/**
 * Verifies Mercure tokens of both generations with the configured keys and algorithms (never
 * the token's own choice; `alg: none` and embedded keys refused), and compiles their grants once.
 * 1.0 tokens must be `typ: at+jwt` with `exp`, and `iss`/`aud` when MERCURE_ISSUER/AUDIENCE are
 * set; legacy tokens carry `mercure: {publish, subscribe, payload}` (Symfony's 0.x publishers
 * sign them without `exp`).
 *
 * HS256/384/512 with a shared secret are verified synchronously by `verifyHmacJws`
 * (@herald/auth, the same code as Herald's own TokenVerifier): the MAC with `node:crypto`, then
 * the claims with jose's own checks and the same tolerance as `jwtVerify`. jose's WebCrypto path
 * is an async job per token (a thread-pool round trip on every publish and every subscribe);
 * asymmetric keys keep `jwtVerify`. Headers with `crit` or `b64` are refused on the HMAC path.
 */
@Injectable()
export class MercureTokens {
  private readonly keys: Record<MercureRole, KeyObject>;
  private readonly algorithms: string[];

  constructor(
    @Inject(MERCURE_MODULE_OPTIONS) private readonly options: MercureModuleOptions,
    @Optional() herald?: TokenVerifier,
  ) {
    this.keys = {
      publisher: keyOf(options.publisherKey, herald),
      subscriber: keyOf(options.subscriberKey, herald),
    };
    this.algorithms = [...options.algorithms];
  }

  /**
   * Verifies `token` for `role`.
   * @throws MercureError 401 `invalid_token` (the reason is not disclosed beyond a short word).
   */
  async verify(token: string, role: MercureRole): Promise<MercureGrants> {
    if (token.length > MAX_TOKEN_LENGTH) throw invalid('token too large');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw invalid('malformed token');
    }
    if (typeof header.alg !== 'string' || !this.algorithms.includes(header.alg)) {
      throw invalid('token algorithm not accepted');
    }
    for (const name of KEY_HEADERS) if (name in header) throw invalid('token header not accepted');
    const key = this.keys[role];
    let payload: JWTPayload;
    if (isHmacJws(key, header.alg)) {
      payload = verifyHmac(token, header, key);
    } else {
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: this.algorithms,
          clockTolerance: CLOCK_TOLERANCE_S,
        }));
      } catch {
        throw invalid('token verification failed');
      }
    }
    const protocol = this.options.protocol;
    if ('authorization_details' in payload && protocol !== 'legacy') {
      return this.v1(header.typ, payload);
    }
    if ('mercure' in payload && protocol !== 'v1') return legacy(payload);
    throw invalid(
      protocol === 'legacy'
        ? 'token has no "mercure" claim'
        : protocol === 'v1'
          ? 'token has no "authorization_details" claim'
          : 'token has neither "authorization_details" nor a "mercure" claim',
    );
  }

  private v1(typ: string | undefined, payload: JWTPayload): MercureGrants {
    const t = (typ ?? '').toLowerCase();
    if (t !== 'at+jwt' && t !== 'application/at+jwt') throw invalid('token "typ" must be at+jwt');
    if (typeof payload.exp !== 'number') throw invalid('token "exp" is required');
    const { issuer, audience } = this.options;
    if (issuer !== undefined && payload.iss !== issuer) throw invalid('token "iss" check failed');
    if (audience !== undefined) {
      const aud = payload.aud;
      const ok = Array.isArray(aud) ? aud.includes(audience) : aud === audience;
      if (!ok) throw invalid('token "aud" check failed');
    }
    const details = payload.authorization_details;
    if (!Array.isArray(details) || details.length > MAX_DETAILS) {
      throw invalid('"authorization_details" must be an array');
    }
    const publish: MercureSelector[] = [];
    const subscribe: MercureSelector[] = [];
    const payloads: { selector: MercureSelector; payload: unknown }[] = [];
    for (const detail of details) {
      if (!isObject(detail)) throw invalid('an authorization detail is not an object');
      if (detail.type !== 'mercure') continue;
      const { actions, topics } = detail;
      if (
        !Array.isArray(actions) ||
        actions.length === 0 ||
        !actions.every((a) => a === 'publish' || a === 'subscribe')
      ) {
        throw invalid('a mercure authorization detail needs "actions" among publish and subscribe');
      }
      if (!Array.isArray(topics) || topics.length === 0 || topics.length > MAX_SELECTORS) {
        throw invalid('a mercure authorization detail needs a non-empty "topics" array');
      }
      if (detail.payload !== undefined && !isObject(detail.payload)) {
        throw invalid('an authorization detail "payload" must be an object');
      }
      const selectors = topics.map(v1Selector);
      if (actions.includes('publish')) publish.push(...selectors);
      if (actions.includes('subscribe')) {
        subscribe.push(...selectors);
        if (detail.payload !== undefined) {
          for (const selector of selectors) payloads.push({ selector, payload: detail.payload });
        }
      }
    }
    return { dialect: 'v1', ...times(payload), publish, subscribe, payloads };
  }
}

/** The claims of an HMAC-signed compact JWS (Herald's synchronous path), or a 401. */
function verifyHmac(token: string, header: { readonly alg?: unknown }, key: KeyObject): JWTPayload {
  try {
    return verifyHmacJws(token, header, key, { clockTolerance: CLOCK_TOLERANCE_S });
  } catch (err) {
    if (err instanceof HmacJwsError && err.reason === 'header') {
      throw invalid('token header not accepted');
    }
    if (err instanceof HmacJwsError && err.reason === 'malformed') throw invalid('malformed token');
    throw invalid('token verification failed');
  }
}

function v1Selector(entry: unknown): MercureSelector {
  if (!isObject(entry) || typeof entry.match !== 'string' || entry.match.length === 0) {
    throw invalid('a topic matcher must be an object with a "match" string');
  }
  const type = entry.matchType ?? 'Exact';
  if (type !== 'Exact' && type !== 'URLPattern') {
    throw invalid('"matchType" must be Exact or URLPattern');
  }
  try {
    return compileSelector(entry.match, type === 'Exact' ? 'exact' : 'urlpattern');
  } catch (err) {
    if (err instanceof MercureSelectorError) throw invalid('a topic matcher does not compile');
    throw err;
  }
}

function legacy(payload: JWTPayload): MercureGrants {
  const claim = payload.mercure;
  if (!isObject(claim)) throw invalid('the "mercure" claim must be an object');
  const list = (name: 'publish' | 'subscribe'): MercureSelector[] => {
    const value = claim[name];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.length > MAX_SELECTORS) {
      throw invalid(`"mercure.${name}" must be an array of topic selectors`);
    }
    return value.map((raw) => {
      if (typeof raw !== 'string') throw invalid(`"mercure.${name}" must hold strings`);
      try {
        return legacySelector(raw);
      } catch (err) {
        if (err instanceof MercureSelectorError) throw invalid('a topic selector does not compile');
        throw err;
      }
    });
  };
  const subscribe = list('subscribe');
  const payloads =
    claim.payload === undefined ? [] : [{ selector: legacySelector('*'), payload: claim.payload }];
  return { dialect: 'legacy', ...times(payload), publish: list('publish'), subscribe, payloads };
}

function times(payload: JWTPayload): Pick<MercureGrants, 'sub' | 'expiresAt' | 'issuedAt'> {
  return {
    sub: typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined,
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    issuedAt: typeof payload.iat === 'number' ? payload.iat * 1000 : undefined,
  };
}

function keyOf(options: MercureKeyOptions, herald: TokenVerifier | undefined): KeyObject {
  switch (options.driver) {
    case 'secret':
      return createSecretKey(Buffer.from(options.secret, 'utf8'));
    case 'public-key':
      return parsePublicKeyPem(options.publicKeyPem);
    case 'herald':
      if (herald === undefined) {
        throw new Error('Mercure: no key configured and Herald auth (TokenVerifier) is absent');
      }
      return herald.key;
  }
}

function invalid(message: string): MercureError {
  return new MercureError(401, `invalid Mercure token: ${message}`, 'invalid_token');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

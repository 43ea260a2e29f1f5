import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptStream, startTrapServer, type TrapServer } from '../support/auth-helpers';
import { startTestGateway, type Gateway } from '../support/gateway';
import { publish } from '../support/sse-client';
import { TEST_JWT_SECRET, b64, bearer, claims, hs256, signJwt } from '../support/tokens';

const GRANTS = { subscribe: ['secure/**'], publish: ['secure/**'] };
const PATH = '/events?topic=secure/x';
const now = () => Math.floor(Date.now() / 1000);

interface KeyedGateway {
  readonly alg: string;
  readonly gw: Gateway;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly attacker: { privateKey: KeyObject; publicKey: KeyObject };
}

function pair(alg: string): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
    default:
      throw new Error(alg);
  }
}

describe('Auth: token verification (RELIABILITY 9, 10)', () => {
  let hs: Gateway;
  let claimed: Gateway;
  const keyed: KeyedGateway[] = [];
  let trap: TrapServer;

  beforeAll(async () => {
    trap = await startTrapServer();
    hs = await startTestGateway({ ANONYMOUS_TOPICS: '' });
    claimed = await startTestGateway({
      ANONYMOUS_TOPICS: '',
      JWT_ISSUER: 'https://issuer.test',
      JWT_AUDIENCE: 'herald-test',
    });
    for (const alg of ['RS256', 'ES256', 'EdDSA']) {
      const { privateKey, publicKey } = pair(alg);
      const gw = await startTestGateway({
        ANONYMOUS_TOPICS: '',
        JWT_SECRET: '',
        JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        JWT_ALGORITHMS: alg,
      });
      keyed.push({ alg, gw, privateKey, publicKey, attacker: pair(alg) });
    }
  });
  afterAll(async () => {
    for (const k of keyed) await k.gw.app.close();
    await hs?.app.close();
    await claimed?.app.close();
    await trap?.close();
  });

  const expect401 = async (gw: Gateway, token: string, message?: RegExp) => {
    const reply = await attemptStream(gw.url, PATH, bearer(token));
    expect(reply.status).toBe(401);
    expect(reply.challenge).toMatch(/^Bearer /);
    const body = JSON.parse(reply.body) as Record<string, unknown>;
    expect(body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    if (message) expect(body.message).toMatch(message);
    expect(reply.body).not.toContain(token);
    expect(reply.body).not.toContain(token.split('.')[1] ?? '~');
  };

  describe('HS256 (JWT_SECRET)', () => {
    it('should open a stream and accept a publish when the token is valid', async () => {
      const token = hs256(claims(GRANTS));
      expect((await attemptStream(hs.url, PATH, bearer(token))).status).toBe(200);
      const res = await publish(hs.url, { topic: 'secure/x', data: 1 }, bearer(token));
      expect(res.status).toBe(202);
    });

    it('should accept a lowercase bearer scheme when the header says "bearer"', async () => {
      const token = hs256(claims(GRANTS));
      const reply = await attemptStream(hs.url, PATH, { Authorization: `bearer ${token}` });
      expect(reply.status).toBe(200);
    });

    it('should answer 401 with a Bearer challenge when no token is sent', async () => {
      const reply = await attemptStream(hs.url, PATH);
      expect(reply.status).toBe(401);
      expect(reply.challenge).toBe('Bearer realm="herald"');
      const pub = await publish(hs.url, { topic: 'secure/x', data: 1 }, { Authorization: '' });
      expect(pub.status).toBe(401);
      expect(pub.headers.get('www-authenticate')).toMatch(/^Bearer /);
    });

    it.each(['none', 'None', 'NONE', 'nOnE'])(
      'should refuse alg %s with or without a signature',
      async (alg) => {
        const unsigned = `${b64({ alg, typ: 'JWT' })}.${b64(claims(GRANTS))}.`;
        await expect401(hs, unsigned);
        const signed = hs256(claims(GRANTS), TEST_JWT_SECRET, { alg });
        await expect401(hs, signed);
      },
    );

    it('should refuse a tampered payload when the signature no longer matches', async () => {
      const [h, , s] = hs256(claims(GRANTS)).split('.');
      const forged = b64(claims({ subscribe: ['**'], publish: ['**'], admin: true }));
      await expect401(hs, `${h}.${forged}.${s}`, /signature/);
    });

    it('should refuse a truncated or missing signature', async () => {
      const token = hs256(claims(GRANTS));
      await expect401(hs, token.slice(0, -4));
      await expect401(hs, token.slice(0, token.lastIndexOf('.') + 1));
      await expect401(hs, token.slice(0, token.lastIndexOf('.')));
    });

    it('should refuse HS512 when JWT_ALGORITHMS only lists HS256, even with the right secret', async () => {
      const token = await signJwt(claims(GRANTS), Buffer.from(TEST_JWT_SECRET), 'HS512');
      await expect401(hs, token, /algorithm/);
    });

    it('should refuse a token without exp, or past its exp beyond the 60 s skew', async () => {
      const noExp = { ...claims(GRANTS), exp: undefined };
      await expect401(hs, hs256(noExp));
      await expect401(hs, hs256(claims(GRANTS, { exp: now() - 120 })), /expired/);
    });

    it('should tolerate up to 60 s of clock skew on exp and nbf', async () => {
      const late = hs256(claims(GRANTS, { exp: now() - 20 }));
      const pub = await publish(hs.url, { topic: 'secure/x', data: 1 }, bearer(late));
      expect(pub.status).toBe(202);
      // but a stream never starts past exp: it would end at once and the client would loop
      await expect401(hs, late, /expired/);
      const early = hs256(claims(GRANTS, { nbf: now() + 20 }));
      expect((await attemptStream(hs.url, PATH, bearer(early))).status).toBe(200);
    });

    it('should refuse a token whose nbf is in the future', async () => {
      await expect401(hs, hs256(claims(GRANTS, { nbf: now() + 300 })), /nbf/);
    });

    it('should refuse a malformed or oversized token', async () => {
      await expect401(hs, 'not-a-jwt');
      await expect401(hs, 'a.b.c');
      // over the 8 KiB token limit but under Node's header limit: refused by the verifier
      const big = hs256(claims(GRANTS, { pad: 'x'.repeat(10 * 1024) }));
      await expect401(hs, big, /too large/);
      // 64 KiB in the query string: refused by Node's header limit before any parsing
      const huge = hs256(claims(GRANTS, { pad: 'x'.repeat(64 * 1024) }));
      const reply = await attemptStream(hs.url, `${PATH}&access_token=${huge}`);
      expect([401, 414, 431]).toContain(reply.status);
      expect(reply.body).not.toContain(huge.slice(0, 40));
    });
  });

  describe('iss and aud (JWT_ISSUER, JWT_AUDIENCE)', () => {
    const good = { iss: 'https://issuer.test', aud: 'herald-test' };

    it('should accept a token with the configured iss and aud', async () => {
      const token = hs256(claims(GRANTS, good));
      expect((await attemptStream(claimed.url, PATH, bearer(token))).status).toBe(200);
    });

    it.each([
      ['a wrong iss', { ...good, iss: 'https://evil.test' }],
      ['no iss', { aud: 'herald-test' }],
      ['a wrong aud', { ...good, aud: 'other' }],
      ['no aud', { iss: 'https://issuer.test' }],
    ])('should refuse %s with 401', async (_, extra) => {
      await expect401(claimed, hs256(claims(GRANTS, extra)));
    });
  });

  describe.each(['RS256', 'ES256', 'EdDSA'])('%s (JWT_PUBLIC_KEY)', (alg) => {
    const k = () => {
      const found = keyed.find((x) => x.alg === alg);
      if (!found) throw new Error(`no ${alg} gateway`);
      return found;
    };

    it('should accept a token signed by the private key', async () => {
      const token = await signJwt(claims(GRANTS), k().privateKey, alg);
      expect((await attemptStream(k().gw.url, PATH, bearer(token))).status).toBe(200);
      const res = await publish(k().gw.url, { topic: 'secure/y', data: alg }, bearer(token));
      expect(res.status).toBe(202);
    });

    it('should refuse HS256 signed with the public key as the HMAC secret (alg confusion)', async () => {
      const pem = k().publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const der = k().publicKey.export({ type: 'spki', format: 'der' });
      await expect401(k().gw, hs256(claims(GRANTS), pem));
      await expect401(k().gw, hs256(claims(GRANTS), der));
      await expect401(k().gw, hs256(claims(GRANTS), pem, { alg: alg }));
    });

    it('should refuse alg none, a tampered payload and a truncated signature', async () => {
      const token = await signJwt(claims(GRANTS), k().privateKey, alg);
      const [h, , s] = token.split('.');
      await expect401(k().gw, `${b64({ alg: 'none' })}.${b64(claims(GRANTS))}.`);
      await expect401(k().gw, `${h}.${b64(claims({ subscribe: ['**'], admin: true }))}.${s}`);
      await expect401(k().gw, token.slice(0, -6));
    });

    it('should refuse a token signed by another key', async () => {
      await expect401(k().gw, await signJwt(claims(GRANTS), k().attacker.privateKey, alg));
    });

    it('should refuse header jwk, jku, x5u and x5c without any outbound connection', async () => {
      const before = trap.hits.length;
      const jwk = await exportJWK(k().attacker.publicKey);
      const headers: Record<string, unknown>[] = [
        { jwk },
        { jku: `${trap.url}/jwks.json`, kid: 'k1' },
        { x5u: `${trap.url}/cert.pem` },
        { x5c: [Buffer.from('not a cert').toString('base64')] },
      ];
      for (const header of headers) {
        // signed by the attacker's key, which the header points at
        await expect401(
          k().gw,
          await signJwt(claims(GRANTS), k().attacker.privateKey, alg, header),
        );
        // even signed by the real key: a token may not carry key-selection headers
        await expect401(
          k().gw,
          await signJwt(claims(GRANTS), k().privateKey, alg, header),
          /header/,
        );
      }
      expect(trap.hits.slice(before)).toEqual([]);
    });

    it('should refuse an expired token and one without exp', async () => {
      await expect401(
        k().gw,
        await signJwt(claims(GRANTS, { exp: now() - 3600 }), k().privateKey, alg),
      );
      const noExp = { ...claims(GRANTS), exp: undefined };
      await expect401(k().gw, await signJwt(noExp, k().privateKey, alg));
    });
  });
});
